from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation and provenance"

    def ready(self) -> None:
        from consent.services import BIOMETRICS_ERASED_HANDLERS, CONSENT_ANSWER_HANDLERS, FACES_ENROLLED_HANDLERS
        from generation.appearances import released_faces_forget, released_faces_link_quietly
        from generation.services import generation_after_consent_answer, generation_after_review
        from moderation.models import Decision
        from moderation.services import on_review_decided

        if generation_after_consent_answer not in CONSENT_ANSWER_HANDLERS:
            CONSENT_ANSWER_HANDLERS.append(generation_after_consent_answer)
        on_review_decided(Decision.Kind.GENERATION, generation_after_review)
        on_review_decided(Decision.Kind.OUTPUT, generation_after_review)
        if released_faces_link_quietly not in FACES_ENROLLED_HANDLERS:
            FACES_ENROLLED_HANDLERS.append(released_faces_link_quietly)
        if released_faces_forget not in BIOMETRICS_ERASED_HANDLERS:
            BIOMETRICS_ERASED_HANDLERS.append(released_faces_forget)
