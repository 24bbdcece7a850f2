## Messages every part of the bot uses. Owned by the i18n layer (bot/i18n.py).
## Numbers are printed with grouping ("12,250"); money via MONEY($kopecks) or
## bot.i18n.format_money.

# A number of points: 1 point, 5 points.
points = { $n ->
    [one] { $n } point
   *[other] { $n } points
}

## Errors and generic replies

error-generic = Something went wrong. Please try again a little later.
error-try-again-later = The service is temporarily unavailable. Please try again in a few minutes.
cancelled = Cancelled.
done = Done.
unknown-command = I don't know that command. Open the menu with /start.
use-buttons = Please choose one of the buttons below.
not-allowed = You are not allowed to do this.

## Buttons

# "да"/"нет" inside a sentence (a setting's value, a card's field); the buttons are capitalised.
word-yes = yes
word-no = no
button-yes = Yes
button-no = No
button-back = « Back
button-cancel = Cancel
button-confirm = Confirm
button-decline = Decline

## Reading a QR code from a photo (bot/qr.py)

qr-not-an-image = This doesn't look like an image. Send a photo of the QR code or type the 6-digit code.
qr-too-large = The image is too large. Send an ordinary photo of the QR code.
qr-not-found = No QR code found in the photo. Take it closer and straighter, or type the 6-digit code.
qr-foreign = This is not a card of our loyalty program. Ask the guest to open their card in the bot.
