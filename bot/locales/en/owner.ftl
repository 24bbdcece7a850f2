## The owner's tools (handlers/owner*.py). HTML: user-supplied values arrive escaped.

owner-menu = <b>Owner tools</b>
    /program — the loyalty program
    /campaigns — campaigns, sources and their funnels
    /broadcast — a new broadcast, /broadcasts — history
    /find — find a customer
    /import, /export — load and download the base
    /promocodes — promo codes
    /report — the report
    /audit — the action log
    /staff — staff and invites
    /api — cash register keys
owner-menu-program = Program
owner-menu-campaigns = Campaigns
owner-menu-promocodes = Promo codes
owner-menu-broadcast = Broadcast
owner-menu-broadcasts = Broadcast history
owner-menu-find = Find a customer
owner-menu-import = Import
owner-menu-export = Export
owner-menu-audit = Log
owner-refused = This command is for the owner only. The attempt was logged.
owner-stale = This button is out of date. Please start again.
owner-file-too-large = The file is over 20 MB; Telegram does not let a bot download it. Split it into parts.

## Program

program-head = <b>Program “{ $name }”</b>, version { $version }
program-tiers-money = Tiers (by money paid):
program-tiers-purchases = Tiers (by number of purchases):
program-tier = { $n }. <b>{ $name }</b>: cashback { $cashback }%, points pay up to { $cap }% of a check, from { $threshold }
program-tier-window = Tiers count the last { $days } days.
program-welcome = For registering: { $points ->
    [one] { $points } point
   *[other] { $points } points
}
program-referral = Referrals: { $levels } of friends' payments by level
program-referral-off = No referral rewards
program-referral-first = For a friend's first purchase: { $points } pts
program-validity = Points are valid { $days } days
program-validity-forever = Points never expire
program-birthday = Birthday: { $points } pts, up to { $cap }% of a check, valid { $days } days, { $extra } days before the date
program-birthday-off = No birthday gift
program-winback = Win-back: after { $extra } days without a purchase — { $points } pts, up to { $cap }% of a check, valid { $days } days
program-winback-off = No win-back certificate
program-review = Review on { $site }: { $points } pts
program-refunds = Purchases can be refunded for { $days } days
program-hint = To replace the whole program, send a TOML file (“Download TOML” gives the current one). Common settings are the buttons below.
program-download = Download TOML
program-set-welcome-points = Welcome points
program-set-cashback = Cashback “{ $tier }”
program-set-cap = Points limit “{ $tier }”
program-set-birthday-points = Birthday: points
program-set-birthday-cap = Birthday: cap %
program-set-birthday-validity = Birthday: validity, days
program-set-birthday-enabled = Birthday: on/off
program-set-winback-points = Win-back: points
program-set-winback-after-days = Win-back: after days
program-set-winback-enabled = Win-back: on/off
program-ask-value = { $setting }: now { $current }.
program-ask-percent = Send the new value in percent, e.g. 5 or 5.5%.
program-ask-points = Send the number of points, e.g. 300.
program-ask-days = Send the number of days, e.g. 30.
program-ask-switch = Turn it on? Answer “yes” or “no”.
program-error-whole = { $setting }: a whole number is needed, e.g. 300. Send it again.
program-error-percent = { $setting }: a percentage from 0 to 100 is needed, e.g. 5 or 5.5%. Send it again.
program-error-yes-no = { $setting }: answer “yes” or “no”.
program-error-digits = { $setting }: type the number with the digits 0–9.
program-error-program = { $setting }: the program does not pass its checks with this value (a limit or a period out of range, say). Send another value.
program-error-text-no-language = the text is written in no language: write it as one string, "Guest", or per language, {"{"} ru = "Гость", en = "Guest" {"}"}
program-error-text-unknown-language = the bot does not know the language “{ $unknown }”: texts are written in Russian (ru) and English (en)
program-error-text-too-short = the text is empty: write it as customers will read it
program-error-text-too-long = “{ $text }” is longer than { $max } characters: shorten it
program-error-text-pattern = “{ $text }”: only letters, digits, spaces, dots and hyphens are allowed
program-value-off = off
program-label-welcome-validity = Welcome points valid, days
program-label-points-validity = Points valid, days
program-label-points-pending = Cashback available after, days
program-label-expiry-warning = Warn before points expire, days
program-label-birthday-before = Birthday: greet days before
program-label-winback-cap = Win-back: limit %
program-label-winback-validity = Win-back: valid, days
program-label-referral-levels = Referral shares of friends' payments, by level
program-label-referral-first = For a friend's first purchase, points
program-label-refund-window = Refund window, days
program-label-business-name = Program name
program-label-tier-threshold = Threshold of “{ $tier }”
program-label-tier-name = Name of tier “{ $tier }”
program-invalid = The program was not accepted:
    { $errors }
program-not-utf8 = the file is not UTF-8
program-no-changes = No changes: the program is the same.
program-diff-head = Changes against version { $version }:
program-diff-line = • { $key }: { $old } → <b>{ $new }</b>
program-button-apply = Apply
program-applied = Done: version { $version } is in force. Operations already recorded do not change.
program-dropped = Changes discarded.
program-stale = The program was changed just now. Open /program and try again.

## Campaigns and sources

campaigns-head = <b>Campaigns and sources</b> (opened → registered → certificates → bought, revenue, points spent)
campaigns-empty = No campaigns yet.
campaigns-row = 🎁 <b>{ $name }</b> (g_{ $code }): { $opened } → { $registered } → { $certificates } → { $buyers }, { $revenue }, { $cost } pts
campaigns-row-source = 🔗 <b>{ $name }</b> (s_{ $code }): { $opened } → { $registered } → { $certificates } → { $buyers }, { $revenue }, { $cost } pts
campaigns-button-new = New campaign
campaigns-button-source = New source
campaign-new = A new campaign with a certificate. Answer step by step; “-” skips an optional step, /cancel leaves.
campaign-ask-name = The campaign's name (up to 80 characters)?
campaign-ask-points = How many points in the certificate?
campaign-ask-cap = What share of a check may the certificate pay, %? (“-”: 100%)
campaign-ask-validity = How many days is the certificate valid?
campaign-ask-limit = How many certificates at most? (“-”: no limit)
campaign-ask-ends = The last day the link works (dd.mm.yyyy)? (“-”: no end)
campaign-ask-partner = Partner (cross-marketing)? (“-”: none)
campaign-bad-answer = I did not understand the answer.
campaign-invalid = The campaign cannot be created ({ $reason }). Let us start again.
campaign-recap = Check the campaign:
    “{ $name }”: a certificate for { $points } pts that pays up to { $cap }% of a check, valid { $validity } days.
    At most { $limit } certificates. The link works until: { $ends }. Partner: { $partner }.
campaign-recap-no-limit = no limit
campaign-recap-no-end = no end date
campaign-recap-no-partner = none
campaign-button-create = ✅ Create
campaign-created = The campaign is created.
campaign-dropped = The campaign was not created.
campaign-invalid-recap = The campaign cannot be created ({ $reason }). Start again: /campaigns.
campaign-link = 🎁 Campaign “{ $name }”
    Link: { $link }
    The QR code is ready to print.
source-link = 🔗 Source “{ $name }”
    Link: { $link }
    The QR code is ready to print.
campaign-stop-offer = Stop the campaign “{ $name }”? No more certificates will be issued.
campaign-button-stop = Stop
campaign-stopped = The campaign is stopped.
source-ask-tag = The source tag: Latin letters, digits, “_” or “-” (for example instagram)?
source-bad-tag = A tag: Latin letters, digits, “_” and “-”, up to 32 characters.
source-tag-taken = This tag exists already. Choose another.

## Broadcasts

broadcast-ask-content = Send the broadcast's text (formatting is kept) or a photo with a caption. /cancel to stop.
broadcast-too-long = Too long: at most { $limit } characters.
broadcast-ask-button = Add a link button? Send “Button text | https://address” or press “No button”.
broadcast-no-button = No button
broadcast-bad-button = Like this: Button text | https://example.com
broadcast-ask-segment = Who receives it?
broadcast-ask-value = Which one:
broadcast-no-options = Nothing to choose from yet.
broadcast-ask-days-inactive = How many days without a purchase (at least)?
broadcast-ask-days-expiring = A certificate expires within how many days?
broadcast-bad-days = A whole number of days from 1 to 3650, please.
broadcast-summary = Above is what customers will see.
    Segment: { $segment }
    Recipients: <b>{ $n }</b>
broadcast-button-send = Send ({ $n })
broadcast-queued = The broadcast is queued: { $n } recipients.
broadcast-progress = 📤 Broadcast #{ $id }: sent { $sent } of { $total }
    failed: { $failed }, blocked the bot: { $blocked }
    remaining: { $remaining }, about { $eta }
broadcast-progress-done = ✅ Broadcast #{ $id } finished: sent { $sent } of { $total }
    failed: { $failed }, blocked the bot: { $blocked }
broadcast-progress-cancelled = ⛔ Broadcast #{ $id } stopped: sent { $sent } of { $total }
    failed: { $failed }, blocked the bot: { $blocked }, cancelled: { $cancelled }
broadcast-button-stop = Stop the broadcast
broadcast-stopped = Stopped; not sent: { $n }
broadcasts-head = <b>Broadcasts</b>
broadcasts-empty = No broadcasts yet.
broadcasts-row = #{ $id } { $date } { $status } — { $segment }: “{ $preview }”
    total { $total }, sent { $sent }, failed { $failed }, blocked { $blocked }, remaining { $remaining }
broadcast-status-draft = draft
broadcast-status-sending = sending
broadcast-status-done = finished
broadcast-status-cancelled = stopped
owner-eta-hours = { $h } h { $m } min
owner-eta-minutes = { $m } min { $s } s
owner-eta-seconds = { $s } s
owner-segment-all = Everyone
owner-segment-tier = Tier
owner-segment-inactive = Inactive
owner-segment-rfm = RFM segment
owner-segment-campaign = Campaign / source
owner-segment-source-kind = Where they came from
owner-segment-birthday-month = Birthday month
owner-segment-expiring = Certificate expiring
owner-source-referral = referral
owner-source-campaign = campaign
owner-source-source = source
owner-source-staff = staff
owner-source-import = import
owner-source-walk-in = walk-in
owner-month-1 = January
owner-month-2 = February
owner-month-3 = March
owner-month-4 = April
owner-month-5 = May
owner-month-6 = June
owner-month-7 = July
owner-month-8 = August
owner-month-9 = September
owner-month-10 = October
owner-month-11 = November
owner-month-12 = December

## Import and export

import-ask-file = Send a CSV or XLSX file: our export (/export) or your own file with the header <code>phone,name,birthday,balance,total_spent,purchases,source</code> (only the phone is required — a phone or “Phone” column; dates dd.mm.yyyy or yyyy-mm-dd; money in roubles; “;” or “,” separators; UTF-8 or Windows-1251). I will show what it gives first.
import-plan = <b>File check</b>: { $rows } rows
    customers to create: { $create }, points: { $points }
    imported before: { $imported }
    errors: { $errors }
import-unknown-columns = Unknown columns skipped: { $columns }
import-new-sources = New sources: they will be created (their s_… links appear in /campaigns): { $sources }
import-bad-sources = These sources cannot be tags (Latin letters, digits, "-" and "_", up to 32): the customers import without them: { $sources }
import-error-line = line { $line }, { $column }: { $reason } ({ $value })
import-more-errors = …and { $n } more errors
import-nothing = Nothing to load.
import-button-confirm = Load ({ $n })
import-done = Customers loaded: { $created }, points: { $points }. Already there: { $imported }, rows with errors: { $errors }.
import-file-not-xlsx = The file is named .xlsx but is not an Excel workbook. Save it from Excel as XLSX or CSV.
import-file-bad-xlsx = The Excel workbook cannot be opened: the file is damaged. Save it again or send a CSV.
import-file-not-text = This is not a text CSV. Send a CSV or XLSX.
import-file-no-header = The file has no header line.
import-file-no-phone-column = The header has no phone column (phone or “Phone”). The first line, for example: phone,name,birthday,balance,total_spent,purchases,source — or our export's headers.
import-file-empty = The file is empty.
import-file-too-many-rows = Too many rows (over 100,000). Split the file.
import-file-too-large = The file is too large. Split it into parts.
import-reason-bad-phone = bad phone
import-reason-missing-phone = no phone
import-reason-bad-date = bad date
import-reason-duplicate = repeated in the file
import-reason-exists = already a customer
import-reason-bad-number = bad number
import-reason-bad-name = name too long
export-choose = What to download?
export-customers-csv = Customers, CSV
export-customers-xlsx = Customers, XLSX
export-operations-csv = Operations, CSV
export-operations-xlsx = Operations, XLSX
export-preparing = Preparing the file…

## Customers

find-ask = The customer's phone, name or 6-digit code?
find-none = Nobody found.
find-many = Found: { $n }. Choose:
owner-card = <b>Customer #{ $id }</b>: { $name }, { $phone }
    Birthday: { $birthday }
    Tier: { $tier } (pinned: { $pinned })
    Points: { $balance }, certificates: { $certificates }
    Paid: { $paid }, purchases: { $purchases }
    Source: { $source }, campaign: { $campaign }
    Telegram: { $linked }, blocked: { $blocked }, invited: { $invitees }
owner-card-referrer = Invited by: #{ $id } { $name }
owner-card-invitees = Their friends: { $names }
owner-card-history = <b>History</b>:
owner-card-history-line = { $date } { $what } { $delta } { $amount }
owner-history-purchase = purchase
owner-history-referral = for a friend
owner-history-refund = refund
owner-history-referral-refund = friend's refund
owner-history-welcome = welcome
owner-history-review = review
owner-history-certificate = certificate
owner-history-reward = reward
owner-history-manual = adjustment
owner-history-import = import
owner-history-expiry = expiry
owner-history-certificate-expiry = certificate expired
owner-history-erase = data erased
owner-button-adjust = Add / take points
owner-button-pin = Pin a tier
owner-button-block = Block
owner-button-unblock = Unblock
owner-button-unpin = Unpin
owner-adjust-ask = Send a number and the reason, e.g. “+200 compensation” or “-100 cashier's mistake”.
owner-adjust-bad = Like this: +200 reason (or -100 reason).
owner-adjust-refused = That did not work: { $reason }
owner-adjust-done = Done: { $delta } pts.
owner-pin-ask = Which tier to pin?
owner-pinned = Tier pinned: { $tier }
owner-unpinned = Unpinned; tier: { $tier }
owner-blocked = The customer is blocked: no earning and no paying with points.
owner-unblocked = The customer is unblocked.

## Audit

audit-head = <b>Log</b>, page { $page } of { $pages }
audit-line = { $date } { $time } — { $who }: { $what }
audit-who = { $name } ({ $role })
audit-telegram-id = Telegram { $id }
audit-role-owner = owner
audit-role-staff = cashier
audit-role-customer = customer
audit-role-system = system
audit-other = { $action } { $target }
audit-checkout-purchase = purchase #{ $id } of { MONEY($amount) }
audit-checkout-refund = refund of purchase #{ $id }: { MONEY($amount) }
audit-checkout-sale-no-card = sale without a card #{ $id } of { MONEY($amount) }
audit-checkout-quote = a check of { MONEY($amount) } opened
audit-checkout-cancel = check cancelled
audit-checkout-find = customer #{ $id }'s card opened
audit-checkout-phone-confirmation = the customer was asked to allow paying with points
audit-customer-create-by-phone = customer #{ $id } added by phone
audit-customer-promo-redeem = promo code { $code } used
audit-customer-broadcasts-off = customer #{ $id } turned broadcasts off
audit-customer-broadcasts-on = customer #{ $id } gets broadcasts again
audit-staff-invite = an invite link for a cashier created
audit-staff-join = a cashier joined by invite
audit-staff-rename = cashier renamed: { $name }
audit-staff-revoke = a cashier's access revoked
audit-owner-program = program changed, version { $id }
audit-owner-adjust = customer #{ $id }'s points changed by hand
audit-owner-block = customer #{ $id } blocked
audit-owner-unblock = customer #{ $id } unblocked
audit-owner-pin-tier = customer #{ $id }'s tier pinned
audit-owner-unpin-tier = customer #{ $id }'s pinned tier removed
audit-owner-campaign-create = campaign { $code } created
audit-owner-campaign-stop = campaign stopped
audit-owner-promo-create = promo code { $code } created
audit-owner-promo-disable = promo code { $code } stopped
audit-owner-import = customers imported
audit-owner-export = customers exported
audit-owner-refused = an owner action tried without the right ({ $id })
audit-review-approve = review approved
audit-review-reject = review rejected
audit-fraud-customer = unusually many operations of customer #{ $id } today
audit-fraud-staff = a cashier paid out unusually many points today
audit-api-key-create = a cash register key created
audit-api-key-revoke = a cash register key revoked
audit-empty = No entries.
