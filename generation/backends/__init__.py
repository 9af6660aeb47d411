"""Generation backends: the engines that turn a consented request into an image or a video."""
