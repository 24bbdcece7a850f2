## Exported files: /export in the bot and `loyalty-bot export` (models/owner/exports.py).
## Column headers; the first seven are also what /import reads (models/owner/imports.py accepts
## these headers in Russian and English, and the column ids phone, name, …).

export-sheet-customers = Customers
export-sheet-operations = Operations

export-column-phone = Phone
export-column-name = Name
export-column-birthday = Birthday
export-column-balance = Points
export-column-total_spent = Total spent, ₽
export-column-purchases = Purchases
export-column-source = Source
export-column-id = Customer No.
export-column-certificates = Certificate points
export-column-tier = Tier
export-column-tier_pinned = Pinned tier
export-column-source_kind = Came from
export-column-registered_at = Joined the bot
export-column-telegram_linked = Card in Telegram
export-column-blocked = Blocked
export-column-created_at = In the base since
export-column-last_purchase_at = Last purchase
export-column-referrer_id = Invited by (customer No.)

export-column-operation_id = Operation No.
export-column-when = Date and time
export-column-kind = Operation
export-column-customer_id = Customer No.
export-column-staff = Staff member
export-column-amount = Check amount, ₽
export-column-money_paid = Paid in money, ₽
export-column-points_paid = Paid with points
export-column-cashback = Points earned
export-column-referral_paid = Points to the referrer
export-column-points_delta = Change in points
export-column-refunded = Refunded, ₽
export-column-shortfall = Points that could not be taken back
export-column-receipt_number = Receipt number
export-column-channel = Recorded by
export-column-program_version = Program version
export-column-comment = Comment

export-yes = yes
export-no = no

export-kind-purchase = Purchase
export-kind-refund = Refund of a purchase
export-kind-manual = Manual points change
export-kind-import = Balance carried over
export-kind-reward = Points granted
export-kind-sale_no_card = Sale without a card
export-kind-expiry = Points expired

export-channel-bot = bot
export-channel-api = till (API)
export-channel-cli = command line
export-channel-job = automatically
export-channel-import = import

export-came-from-referral = Referral
export-came-from-campaign = Campaign link
export-came-from-source = Source link
export-came-from-staff = Through a staff member
export-came-from-import = Import
export-came-from-walk_in = Walk-in
