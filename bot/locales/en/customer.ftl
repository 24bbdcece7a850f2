## The customer's side of the bot (handlers/common.py, handlers/customer*.py,
## handlers/fallback.py). HTML parse mode: names are escaped by the handlers.

## Command menu (bot/runner.py set_commands)

cmd-start = Start / main menu
cmd-card = My card
cmd-balance = Balance and history
cmd-certificates = Certificates
cmd-promo = Enter a promo code
cmd-invite = Invite friends
cmd-review = Rate a visit / leave a review
cmd-settings = Settings
cmd-help = Help
cmd-cancel = Cancel the current action

## Commands that work everywhere (handlers/common.py)

common-nothing-to-cancel = Nothing to cancel.
common-start-hint = To join the loyalty program, press /start.
common-help =
    This is the loyalty program bot.
    • "My card" — the QR code and the code for the cashier
    • "Balance and history" — points and operations
    • "Certificates" — your gift certificates
    • "Invite friends" — your link and rewards for friends
    • "Rate a visit" — a rating, and points for a review
    • "Settings" — language, birthday, deleting your data
    /cancel cancels the current action, /menu shows the menu.
common-help-guest = This is the loyalty program bot. Press /start to register and get welcome points. /cancel cancels the current action.
common-help-staff = For staff: send a customer's code, a photo of their QR code or their phone number to record a purchase. /sale records a sale without a card, /refund refunds a purchase, /me shows your figures, /card your own member card (/join to become a member).
common-help-owner = For the owner: /owner opens the owner's menu; /program, /campaigns, /promocodes, /broadcast, /report, /staff, /import and /export, /find, /audit, /api (keys for the cash register).
common-choose-language = Выберите язык / Choose your language:
common-language-set = Language: English.

## Main menu (bot/keyboards.py)

menu-card = 💳 My card
menu-balance = 💰 Balance and history
menu-certificates = 🎁 Certificates
menu-invite = 👥 Invite friends
menu-review = ⭐ Rate a visit
menu-settings = ⚙️ Settings
menu-prompt = Choose a section from the menu below.

## /start and deep links

start-member = Welcome back, { $name }!
start-foreign-card = This is someone else's loyalty card. If you would like your own, join the program.
start-referral-member = You are already a member: invitations are for new guests only.
start-campaign-granted = 🎁 Your campaign certificate has been added! Find it under "Certificates".
start-campaign-already = You have already received this campaign's certificate.
start-campaign-unavailable = This campaign has ended or its certificates have run out.

## Registration

reg-welcome = Welcome to the { $business } loyalty program!
reg-welcome-points = You get { points } for joining.
reg-consent = To continue, please agree to the processing of your personal data (<a href="{ $url }">privacy policy</a>).
reg-consent-no-policy = To continue, please agree to the processing of your personal data (phone number, name, date of birth).
reg-button-agree = ✅ I agree
reg-consent-expected = To continue, press "I agree" under the message above. /cancel to stop.
reg-start-again = This button has expired. Press /start to begin again.
reg-already-member = You are already a member of the program.
reg-ask-phone = Share your phone number with the button below, so the cashier can find you by it.
reg-button-share-phone = 📱 Share my phone number
reg-phone-expected = Press the "📱 Share my phone number" button at the bottom of the screen. No need to type the number.
reg-phone-not-own = This is not your contact. We only accept your own number: press "📱 Share my phone number".
reg-phone-invalid = We could not read that phone number. Please try again with the button below.
reg-ask-name = What should we call you? Now: <b>{ $name }</b>. Press "Keep it" or type another name.
reg-button-keep-name = Keep it
reg-name-placeholder = Your name
reg-name-invalid = A name needs letters and at most { $max } characters. Type your name or press "Keep it".
reg-name-expected = Type your name as text or press "Keep it".
reg-ask-birthday = When is your birthday? Type the date as DD.MM.YYYY, e.g. 31.12.1990, and we will send you a gift. Or press "Skip".
reg-button-skip-birthday = Skip
reg-birthday-format = I could not read that date. Type it as DD.MM.YYYY, e.g. 31.12.1990, or press "Skip".
reg-birthday-future = That date is in the future. Check the year and type the date again.
reg-birthday-too-old = The year looks like a typo: that is over 120 years ago. Type the date again.
reg-done = 🎉 Done, { $name }! You are a member of the program.
reg-done-welcome = Welcome bonus: +{ points }.
reg-done-campaign = Campaign certificate: +{ points }.
reg-done-joined = We found your earlier purchases by your phone number: your balance and history are kept.
reg-phone-taken = This phone number is already linked to another Telegram account. Please contact the venue's administrator.

## The card

card-refreshed = Here is a new code.

## Balance and history

history-balance = Balance: <b>{ points }</b>
history-pending = Pending: { points }
history-certificates = On certificates: { points }
history-next-expiry = Next to expire: { points } on { $date }
history-empty = No operations yet.
# $sign is "+" or "−", $points a whole number.
history-line = { $date } · { $what } · { $sign }{ $points }
history-line-paid-and-earned = { $date } · { $what } · −{ $spent } paid with points, +{ $earned } cashback
history-check = (check { $amount })
history-until = until { $date }
history-page = Page { $page } of { $pages }
history-newer = « Newer
history-older = Older »
history-kind-purchase = Purchase
history-kind-referral = Friend's purchase
history-kind-refund = Refund
history-kind-referral-refund = Friend's refund
history-kind-welcome = Welcome bonus
history-kind-review = Review
history-kind-certificate = Certificate
history-kind-reward = Bonus
history-kind-manual = Adjustment
history-kind-import = Balance transfer
history-kind-expiry = Points expired
history-kind-certificate-expiry = Certificate not used: it expired
history-kind-erase = Data deleted

## Certificates

certificates-none = You have no valid certificates yet.
certificates-title = <b>Your certificates</b>
certificates-line = { $kind ->
    [birthday] 🎂 Birthday
    [winback] 👋 Welcome back
    [campaign] 🎁 Campaign
   *[other] 🎁 Gift
}: { points } · up to { $cap }% of a check · valid until { $date }

## Invite friends

invite-title = <b>Invite friends to { $business }</b>
invite-terms = You get { $percents } of their purchases (by invitation level).
invite-first-purchase = Plus { points } for a friend's first purchase.
invite-link = Your link: { $link }
invite-level = Level { $level }: invited { $invited }, bought { $bought }, you earned { points }
invite-button-share = 📤 Share the link
invite-share-text = { $points ->
    [0] Join the loyalty program of “{ $business }”!
   *[other] Join the loyalty program of “{ $business }”: { $points } welcome points for joining!
}

## Ratings and reviews

review-menu = Rate your last visit or leave a review — a review earns points.
review-button-rate = ⭐ Rate the last visit
review-site-button = Review on { $site } (+{ $points })
review-menu-no-visit = You can rate a visit after a purchase. And a review earns you points:
review-your-rating = Your rating: { $stars }
review-ask-what-went-wrong = We are sorry you did not like the visit. What went wrong? A few words will reach the manager. /cancel to skip.
review-comment-thanks = Thank you, the manager has it. We will do better.
review-nothing = Nothing to rate yet: you can rate a visit after a purchase.
review-rate-prompt = How was your visit on { $date }? Rate it from 1 to 5.
review-thanks = Thank you for your rating!
review-already-rated = This visit has already been rated.
review-not-yours = This purchase was not found.
review-open-site = Leave a review on { $site } with the button below, then send a screenshot of it here. An approved review earns { points }.
review-button-open = Open { $site }
review-send-screenshot = Send a screenshot of your review as a photo. /cancel to stop.
review-already-rewarded = You have already received points for a review on { $site }.
review-already-pending = Your review on { $site } is already being checked.
review-submitted = Thank you! The screenshot has been sent for checking; we will let you know.
review-site-unknown = This site no longer takes part in the review program.
review-button-approve = ✅ Approve
review-button-reject = ❌ Reject
review-decided-approve = ✅ Approved by { $staff }
review-decided-reject = ❌ Rejected by { $staff }
review-already-decided = This review has already been decided.
review-approved-answer = Approved, points paid.
review-approved-no-points = Approved. The guest already got points for this site, so none were paid again.
review-rejected-answer = Rejected.

## Settings

settings-title = <b>Settings</b>
settings-button-language = 🌐 Язык / Language
settings-button-birthday = 🎂 Set my birthday
settings-broadcasts-on = Offers and news: you receive them. Messages about your points and purchases always come.
settings-broadcasts-off = Offers and news: turned off. Messages about your points and purchases always come.
settings-button-broadcasts-off = 🔕 Stop sending offers and news
settings-button-broadcasts-on = 🔔 Send me offers and news
settings-broadcasts-saved-off = Done: no more offers and news.
settings-broadcasts-saved-on = Done: we will send you offers and news.
settings-button-erase = 🗑 Delete my data
settings-birthday-set = Birthday: { $date }. Only an administrator can change it.
settings-ask-birthday = Type your date of birth as DD.MM.YYYY, e.g. 31.12.1990. /cancel to stop.
settings-birthday-saved = Saved: { $date }. Expect a gift on your birthday!
settings-birthday-already = Your birthday is already set. Only an administrator can change it.
settings-erase-confirm = Delete your data? Your name, phone number and birthday will be deleted, { points } will be lost and your card will stop working. This cannot be undone.
settings-button-erase-yes = Yes, delete
settings-button-erase-no = No, keep it
settings-erased = Your data has been deleted. Thank you for being with us! To come back, press /start.
settings-erase-kept = All right, nothing was deleted.

## Fallback (handlers/fallback.py)

fallback-unknown-command = I don't know that command. Menu: /menu, help: /help.
fallback-text = I didn't understand that. Choose a section from the menu below or press /help.
fallback-text-guest = To join the loyalty program, press /start.
fallback-media = I understand menu buttons and text only. Choose a section from the menu below.
fallback-stale-button = This button no longer works.
