"""Event types this service emits; their data is listed in docs/events.md."""

EMITTED = [
    "agency.registered",
    "child.registered", "child.updated", "child.born", "child.died", "child.mother_linked", "child.cp_plans_elsewhere_recorded",
    "person.recorded", "household.recorded", "professional.recorded",
    "involvement.started", "involvement.ended",
    "contact.recorded", "contact.converted",
    "referral.received", "referral.recommendation_computed", "referral.decided", "referral.feedback_sent",
    "threshold_model.published", "threshold_model.activated",
    "episode.opened", "episode.closed", "early_help.started", "early_help.closed",
    "assessment.started", "assessment.authorised",
    "strategy_discussion.held", "s47.concluded", "icpc.held", "transfer_in.held",
    "cp_plan.started", "cp_plan.reviewed", "cp_plan.ended", "core_group.held",
    "cin_plan.started", "cin_plan.ended",
    "pre_proceedings.started", "pre_proceedings.updated", "pre_proceedings.decided",
    "visit.recorded", "child_voice.recorded",
    "service_offer.made", "service_offer.accepted", "service_offer.declined", "service_offer.attending", "service_offer.ended",
    "engagement.recorded", "engagement.was_not_brought",
    "non_engagement.opened", "non_engagement.escalation_review", "non_engagement.multi_agency_meeting",
    "non_engagement.action_plan", "non_engagement.escalated", "non_engagement.closed",
    "consent.recorded", "information_share.recorded", "chronology.entry_added",
]
