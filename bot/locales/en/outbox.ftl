## The outgoing queue seen by the owner (issue 21 §1)

owner-outbox-waiting = ⏳ { $count ->
    [one] { $count } message is
   *[other] { $count } messages are
} waiting for Telegram: the bot sends { $count ->
    [one] it
   *[other] them
} as soon as Telegram accepts messages again.
