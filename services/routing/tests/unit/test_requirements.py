from routing.domain.requirements import requirements_of


def test_requirements_derive_tenant_language_and_topic() -> None:
    assert requirements_of("acme", "de-AT", "billing", {}) == {
        "tenant:acme": 1,
        "lang:de": 1,
        "topic:billing": 1,
    }


def test_explicit_skills_add_to_or_raise_the_derived_ones() -> None:
    got = requirements_of("acme", "en", "billing", {"topic:billing": 5, "vip": 3, "lang:en": 1})
    assert got == {"tenant:acme": 1, "lang:en": 1, "topic:billing": 5, "vip": 3}


def test_an_outbound_call_needs_the_campaign_skill_instead_of_a_topic() -> None:
    assert requirements_of("acme", "de-AT", "campaign", {}, outbound=True) == {
        "tenant:acme": 1,
        "lang:de": 1,
        "campaign": 1,
    }
