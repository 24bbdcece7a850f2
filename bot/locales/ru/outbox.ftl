## The outgoing queue seen by the owner (issue 21 §1)

owner-outbox-waiting = ⏳ { $count ->
    [one] { $count } сообщение ждёт
    [few] { $count } сообщения ждут
   *[many] { $count } сообщений ждут
} Telegram: бот отправит { $count ->
    [one] его
   *[other] их
}, как только Telegram снова начнёт принимать сообщения.
