## Promo codes (issue 18; models/campaigns/promo.py)

report-cert-promo = promo codes

## The customer's /promo (handlers/customer_promo.py)

promo-ask = Send the promo code with the command, for example: <code>/promo SUMMER2026</code>
promo-accepted = 🎁 Promo code <b>{ $code }</b> accepted: a certificate for { $points } { $points ->
    [one] point
   *[other] points
} until { $date }. It pays up to { $percent }% of a purchase — show your card at the till.
promo-link-unknown = There is no such promo code: the link is out of date or mistyped.
promo-refused-format = A promo code is 3 to 20 letters and digits. Check what you typed and send it again.
promo-refused-unknown = There is no promo code “{ $code }”. Check the spelling.
promo-refused-disabled = The promo code “{ $code }” is no longer valid.
promo-refused-not-yet = The promo code “{ $code }” has not started yet.
promo-refused-expired = The promo code “{ $code }” has expired.
promo-refused-used-up = The promo code “{ $code }” has been used as many times as it allowed.
promo-refused-already = You have already used the promo code “{ $code }”: it works once per person.
promo-refused-blocked = You cannot use a promo code right now: your card is blocked. Please ask the staff.

## The owner's /promocodes (handlers/owner_promo.py)

promo-owner-title = <b>Promo codes</b>
promo-owner-none = There are no promo codes yet.
promo-owner-how = A new promo code: <code>/promocodes CODE POINTS DD.MM.YYYY-DD.MM.YYYY [HOW MANY TIMES]</code>, for example <code>/promocodes SUMMER24 200 01.06.2026-30.06.2026 100</code>. A customer sends <code>/promo CODE</code> or opens the code's link and gets a certificate for these points — once per person.
promo-owner-line = • <b>{ $code }</b> — { $points } pts, { $first } – { $last }, used { $uses } of { $limit }, { $given } pts given — { $status ->
    [active] live
    [not_yet] not started yet
    [expired] over
    [used_up] used up
   *[disabled] stopped
}
promo-owner-link = Link to { $code }: { $link }
promo-owner-stop = Stop { $code }
promo-owner-created = ✅ Promo code created.
promo-owner-stopped = Promo code { $code } stopped.
promo-owner-gone = This promo code no longer exists.
promo-owner-bad = I could not read that promo code. Write the code, the points and the dates separated by spaces.
promo-owner-refused-format = A code is 3 to 20 letters and digits.
promo-owner-refused-taken = The promo code “{ $code }” was used before (or looks like one that was). Choose another: codes never repeat.
promo-owner-refused-points = Points must be between 1 and 10,000,000.
promo-owner-refused-dates = Check the dates: the last day cannot be before the first one or in the past.
promo-owner-refused-limit = How many times it can be used must be a whole number from 1.
promo-owner-refused-validity = A certificate lasts from 1 to 3650 days.
