## The outgoing queue seen by the owner (issue 21 §1)

owner-outbox-waiting = ⏳ { $count ->
    [one] { $count } message is
   *[other] { $count } messages are
} waiting for Telegram: the bot sends { $count ->
    [one] it
   *[other] them
} as soon as Telegram accepts messages again.

# Sent to each owner when Telegram accepts the bot's token again after rejecting it (401).
outbox-token-restored = ✅ The bot is sending messages again. From { $since_at } { $since_time } to { $until_time } Telegram did not accept the bot's token, and messages waited in the queue. They have been sent now; nothing was lost. If the token was changed in @BotFather, check that the bot's settings have the new one.
