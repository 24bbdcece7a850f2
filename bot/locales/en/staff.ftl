## Staff at the till (handlers/staff.py, models/till/). HTML parse mode.
## $points, $balance, $earned... given as text are already formatted ("100 points");
## $amount, $cash, $revenue, $average are kopecks for MONEY().

## Invites and the staff list

staff-welcome = Welcome to the team, <b>{ $name }</b>! You can now serve customers.
staff-ask-name = Send the name customers and reports should see.
staff-name-set = Done, your name is now <b>{ $name }</b>.
staff-list-head = <b>Staff</b>
staff-list-row = • { $name } ({ $role })
staff-role-owner = owner
staff-role-staff = staff
staff-invite-created = One-time invite link, valid for 24 hours. Send it to the new staff member:
    { $link }
staff-revoked = { $name } no longer has staff access.

## Finding the customer

staff-customer-found = <b>{ $name }</b> · status “{ $tier }”
    Balance: { $balance }
staff-customer-certificates = Certificates: { $points }
staff-found-by-phone = Found by phone number: paying with points needs the customer's confirmation in the bot.
staff-found-by-phone-no-telegram = Found by phone number; the customer has no Telegram yet, so points can only be accrued.
staff-ask-amount = Type the check amount, for example 12 250 or 12250,50.
staff-phone-unknown = No customer has the number { $phone }. Create a customer with this number and accrue points to it?

## The quote

staff-quote-head = <b>{ $name }</b> · “{ $tier }” · balance { $balance }
    Check: { MONEY($amount) }
staff-quote-certificate = Certificate: { $points }, pays up to { $percent }% of the check, valid until { $until }
staff-quote-max = Up to <b>{ $points }</b> can be paid: { $reason }.
staff-quote-why-cap = the “{ $tier }” status allows { $percent }% of the check
staff-quote-why-balance = that is the whole balance
staff-quote-with-certificate = Including { $points } from the certificate.
staff-quote-nothing-to-pay = There are no points to pay with.
staff-quote-accrual-only = Points can only be accrued (found by phone, no confirmation possible).
staff-quote-phone-confirmation = The customer will be asked to confirm paying with points in the bot.
staff-quote-cashback = Without paying with points the customer earns { $earned }.
staff-quote-requoted = The customer's balance changed since the quote. Here are the new figures:
staff-ask-points = How many points to pay? At most { $max }.
staff-points-not-a-number = Type a whole number of points, for example 150.
staff-choose-certificate = Choose the certificate to use:

## Confirmation and receipt

staff-confirm = <b>{ $name }</b>
    Check: { MONEY($amount) }
    Paid with points: { $points }
    To pay: <b>{ MONEY($cash) }</b>
    Cashback: +{ $earned }
staff-receipt = ✅ Purchase #{ $operation }
    Check: { MONEY($amount) }
    Paid with points: { $points }
    Paid: { MONEY($cash) }
    Cashback: +{ $earned }
    Customer's balance: { $balance }
staff-purchase-done = Purchase recorded.
staff-checkout-cancelled = Checkout cancelled.
staff-waiting-customer = ⏳ Waiting for the customer to confirm in the bot (until { $until }).
staff-customer-confirmed = ✅ Confirmed. { $points } paid.
staff-customer-declined = You declined paying with points. Nothing was charged.
staff-customer-answer-stale = This request has already been answered.
staff-customer-answer-failed = The purchase could not be completed, nothing was charged. The cashier will start again.
staff-customer-answer-cancelled = The cashier cancelled this request. Nothing was charged.

## Messages through the outbox

staff-phone-confirm-request = The cashier wants to pay for your purchase of { MONEY($amount) } with { $points ->
        [one] { $points } point
       *[other] { $points } points
    }; you would pay { MONEY($cash) }. Confirm within { $minutes } min. If this is not you, press Decline.
staff-phone-confirmed = ✅ The customer confirmed. Purchase #{ $operation }: check { MONEY($amount) }, paid with points { $paid }, paid { MONEY($cash) }, cashback +{ $earned }.
staff-phone-declined = ❌ The customer declined paying with points. Start the checkout again to accrue only.
staff-phone-expired = ⌛ The customer did not confirm in time. Start the checkout again.
staff-phone-stale = The customer's balance changed before they confirmed. Start the checkout again.
staff-phone-failed = The purchase could not be recorded after the customer's confirmation. Start the checkout again.
staff-fraud-customer = ⚠️ Unusual activity: customer { $customer } (#{ $customer_id }) has { $count } operations today (limit { $limit }).
staff-fraud-staff = ⚠️ Unusual activity: { $staff } has accepted { $points } points today (limit { $limit }).

## Refunds and sales without a card

staff-btn-refund = ↩️ Refund
staff-refund-ask = Refund purchase #{ $operation } (check { MONEY($amount) })? Up to { MONEY($refundable) } can be refunded.
staff-ask-refund-amount = Type the amount to refund, for example 1 500.
staff-refund-preview = Refund of purchase #{ $operation }: { MONEY($amount) }, money back { MONEY($cash) }. The customer gets back { $returned }, and { $reversed } of cashback is taken back. Go ahead?
staff-btn-refund-go = ✅ Refund { MONEY($amount) }
staff-btn-refund-no = Cancel
staff-refund-not-done = No refund was made.
staff-refund-done = ↩️ Refund of purchase #{ $operation }: { MONEY($amount) }, money back { MONEY($cash) }, points returned { $returned }, cashback taken back { $reversed }. The customer has been told.
staff-refund-shortfall = { $points } could not be taken back (the customer had already spent them).
staff-refund-partial-left = The rest of the check can still be refunded.
staff-refund-usage = Usage: /refund &lt;purchase number&gt; [amount], for example /refund 125 or /refund 125 1500.
staff-ask-sale-amount = Type the check amount of the sale without a card.
staff-sale-done = Sale without a card #{ $operation } recorded: { MONEY($amount) }.

## /me

staff-me-head = <b>{ $name }</b>, your figures
staff-me-today = Today
staff-me-month = This month
staff-me-period = <b>{ $title }</b>
    Purchases: { $purchases }, revenue { MONEY($revenue) }, average check { MONEY($average) }
    Points paid: { $paid }; accrued: { $accrued }
    Refunds: { $refunds }; sales without a card: { $sales }
    New customers through you: { $enrolled }
    Ratings: { $ratings }, average { $rating }
staff-me-link = Your personal link for new customers (they are counted as yours):
    { $link }

## Buttons

staff-btn-pay-max = Pay { $points ->
        [one] { $points } point
       *[other] { $points } points
    }
staff-btn-pay-other = Another number
staff-btn-no-points = No points
staff-btn-accrue = Accrue points
staff-btn-certificate = Another certificate
staff-btn-certificate-option = { $points } · { $percent }% · until { $until }
staff-btn-confirm = ✅ Confirm
staff-btn-back = « Back
staff-btn-cancel = Cancel
staff-btn-refund-full = Refund all { MONEY($amount) }
staff-btn-refund-partial = Refund part
staff-btn-create-phone = Create and accrue
staff-btn-invite = ➕ Invite link
staff-btn-revoke = Revoke { $name }
staff-btn-rename = Change my name

## Typed amounts

staff-amount-empty = Type the check amount, for example 12 250.
staff-amount-sign = The amount has no sign: type it as 12 250.
staff-amount-format = That is not an amount. Type digits, for example 12 250 or 12250,50.
staff-amount-decimals = At most two digits after the comma (kopecks), for example 12250,50.
staff-amount-zero = The amount must be more than zero.
staff-amount-too-large = That is more than the largest check allowed. Check the amount.

## Errors

staff-error-not-allowed = You are not allowed to do this.
staff-error-invite-not-found = This invite link is not valid. Ask the owner for a new one.
staff-error-invite-expired = This invite link has expired (links are valid 24 hours). Ask the owner for a new one.
staff-error-invite-used = This invite link has already been used. Ask the owner for a new one.
staff-error-already-staff = You are already on the staff.
staff-error-cannot-revoke-owner = The owner cannot be revoked.
staff-error-quote-not-found = This checkout no longer exists. Start again.
staff-error-quote-expired = This checkout is too old. Scan the card again.
staff-error-confirmation-expired = The request has expired; nothing was charged.
staff-error-own-account = You cannot serve your own customer account. Ask a colleague.
staff-error-code-not-found = There is no such code. Ask the customer to open their card in the bot and check the digits.
staff-error-code-used = This code has already been used. Ask the customer for a fresh one (the card in the bot, “New code”).
staff-error-code-expired = This code has expired. Ask the customer for a fresh one (the card in the bot, “New code”).
staff-error-customer-not-found = Customer not found.
staff-error-customer-blocked = This customer's card is blocked.
staff-error-customer-erased = This customer has deleted their data.
staff-error-redeem-limit-exceeded = That is more points than allowed for this check.
staff-error-insufficient-funds = The customer does not have that many points.
staff-error-redeem-not-authorised = Paying with points needs a fresh code from the card or the customer's confirmation; only accrual is possible now.
staff-error-stale-quote = The balance changed; the quote has been recalculated.
staff-error-refund-not-allowed = This purchase has already been fully refunded.
staff-error-refund-window-closed = The refund period for this purchase is over; only the owner can refund it now.
staff-error-refund-too-large = That is more than is left to refund for this purchase.
staff-error-certificate-not-applicable = This certificate cannot be used for this check.
staff-error-not-found = No purchase with this number.
staff-error-invalid-phone = That does not look like a phone number.
staff-error-already-done = This checkout has already been completed.
