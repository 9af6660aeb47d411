"""factory_boy factories shared by the suite."""

import factory

from accounts.models import User, UserRole
from accounts.roles import Role

#: Password of every factory-made user.
PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: "user%d" % n)
    display_name = factory.Faker("name")
    email = factory.LazyAttribute(lambda user: "%s@example.org" % user.username)
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def roles(self, create: bool, extracted: list[Role] | None, **kwargs: object) -> None:
        """Give ``roles=[...]`` (creator when not given)."""
        if not create:
            return
        for role in extracted if extracted is not None else [Role.CREATOR]:
            UserRole.objects.create(user=self, role=role)
            if role == Role.ADMIN:
                User.objects.filter(pk=self.pk).update(is_staff=True, is_superuser=True)
        self.forget_roles()
