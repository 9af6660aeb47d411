from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation and provenance"

    def ready(self) -> None:
        from consent.signals import biometrics_erased, consent_answered, faces_enrolled
        from generation import receivers
        from moderation.signals import review_decided

        consent_answered.connect(receivers.on_consent_answered, dispatch_uid="generation.consent_answered")
        faces_enrolled.connect(receivers.on_faces_enrolled, dispatch_uid="generation.faces_enrolled")
        biometrics_erased.connect(receivers.on_biometrics_erased, dispatch_uid="generation.biometrics_erased")
        review_decided.connect(receivers.on_review_decided, dispatch_uid="generation.review_decided")
