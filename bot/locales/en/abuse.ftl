## Abuse protection (issue 14 §3): the new-code limit, one's own review, a refund after erasure.

# The customer refreshed the card too often (models/customers/accounts.py: CODES_PER_HOUR, CODES_PER_DAY).
abuse-code-limit = Too many new codes, please wait { $minutes } min.
# No code number is free right now (almost impossible): try later.
abuse-no-free-code = A new code could not be issued right now. Please try again in a few minutes.
# A staff member (or the owner) pressed Approve on their own review.
abuse-own-review = Another staff member or the owner approves your own review.
# A line on the refund receipt: the customer erased their data, points are not given back.
abuse-refund-erased = The customer deleted their data: points not returned ({ $points }).
# The refund receipt when the customer erased their data: no points back, nobody to tell.
abuse-refund-done-erased = ↩️ Refund of purchase #{ $operation }: { MONEY($amount) }, money back { MONEY($cash) }.
