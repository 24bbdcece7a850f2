## Promo codes (issue 18; models/promo.py)

report-cert-promo = promo codes

## The customer's /promo (handlers/customer_promo.py)

promo-ask = Send the promo code with the command, for example: <code>/promo SUMMER2026</code>
promo-accepted = 🎁 Promo code <b>{ $code }</b> accepted: a certificate for { $points } { $points ->
    [one] point
   *[other] points
} until { $date }. It pays up to { $percent }% of a purchase — show your card at the till.
promo-refused-format = A promo code is 3 to 20 letters and digits. Check what you typed and send it again.
promo-refused-unknown = There is no promo code “{ $code }”. Check the spelling.
promo-refused-disabled = The promo code “{ $code }” is no longer valid.
promo-refused-not-yet = The promo code “{ $code }” has not started yet.
promo-refused-expired = The promo code “{ $code }” has expired.
promo-refused-used-up = The promo code “{ $code }” has been used as many times as it allowed.
promo-refused-already = You have already used the promo code “{ $code }”: it works once per person.
promo-refused-blocked = You cannot use a promo code right now: your card is blocked. Please ask the staff.
