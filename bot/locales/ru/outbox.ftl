## The outgoing queue seen by the owner (issue 21 §1)

owner-outbox-waiting = ⏳ { $count ->
    [one] { $count } сообщение ждёт
    [few] { $count } сообщения ждут
   *[many] { $count } сообщений ждут
} Telegram: бот отправит { $count ->
    [one] его
   *[other] их
}, как только Telegram снова начнёт принимать сообщения.

# Sent to each owner when Telegram accepts the bot's token again after rejecting it (401).
outbox-token-restored = ✅ Бот снова отправляет сообщения. С { $since_at } { $since_time } до { $until_time } Telegram не принимал токен бота, и сообщения ждали в очереди. Теперь они отправлены, ничего не потеряно. Если токен меняли в @BotFather, проверьте, что в настройках бота указан новый.
