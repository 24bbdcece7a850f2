## Messages the scheduled jobs write to the outbox (scheduler/, models/automation/jobs.py).
## Dates come as numbers ($day, $month) and are shown by scheduler-date: "12 Mar".

# A date as day and month, used inside the messages below.
scheduler-date = { $day } { $month ->
    [1] Jan
    [2] Feb
    [3] Mar
    [4] Apr
    [5] May
    [6] Jun
    [7] Jul
    [8] Aug
    [9] Sep
    [10] Oct
    [11] Nov
   *[12] Dec
}

# Birthday greeting with the certificate. $cap is a percent of the check.
scheduler-birthday = 🎂 Happy birthday, { $name }!
    Here is a certificate for { $points ->
        [one] { $points } point
       *[other] { $points } points
    }: it pays up to { $cap }% of a check until { scheduler-date } inclusive.

# The same, sent program.birthday.days_before days early: $birthday is "DD.MM".
scheduler-birthday-soon = 🎂 { $name }, your birthday is coming on { $birthday }! Here is a certificate in advance: { $points ->
        [one] { $points } point
       *[other] { $points } points
    }. It pays up to { $cap }% of a check from now until { scheduler-date } inclusive.

# An unused certificate, CERTIFICATE_REMINDER_DAYS before its end (models/automation/jobs.py).
scheduler-certificate-reminder = 🎁 A reminder: your certificate for { $points ->
        [one] { $points } point
       *[other] { $points } points
    } works until { scheduler-date } inclusive. Show your card at the till to pay with it.

# Win-back: $days without a purchase.
scheduler-winback = { $name }, we have missed you! Here is a certificate for { $points ->
        [one] { $points } point
       *[other] { $points } points
    }: it pays up to { $cap }% of a check until { scheduler-date } inclusive. See you soon!

scheduler-expiry-warning = ⏳ { $points ->
        [one] { $points } point expires
       *[other] { $points } points expire
    } on { scheduler-date }. Spend them before then!

scheduler-tier-down = Your tier has changed: “{ $previous }” → “{ $tier }”. Tiers count recent purchases, so new purchases bring it back.
scheduler-tier-up = Congratulations! Your new tier is “{ $tier }”.
scheduler-tier-near-money = Almost at “{ $tier }”: just { MONEY($kopecks) } more in purchases.
scheduler-tier-near-purchases = Almost at “{ $tier }”: { $count ->
        [one] { $count } more purchase
       *[other] { $count } more purchases
    } to go.

