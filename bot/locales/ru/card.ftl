## The customer's loyalty card (bot/card.py): labels drawn on the image and the
## message sent with it.

card-tier-label = Статус
card-balance-label = Баланс
# The word after the big balance figure on the card image.
card-points-word = { $n ->
    [one] балл
    [few] балла
   *[many] баллов
}
card-code-label = Код для кассира
# Progress to the next tier when the threshold is money spent.
card-progress-money = Ещё { MONEY($kopecks) } до «{ $tier }»
# Progress to the next tier when the threshold is a number of purchases.
card-progress-purchases = { $count ->
    [one] Ещё { $count } покупка до «{ $tier }»
    [few] Ещё { $count } покупки до «{ $tier }»
   *[many] Ещё { $count } покупок до «{ $tier }»
}
card-progress-top = У вас максимальный статус
# Sent with the card image (HTML parse mode). $code is spaced ("123 456"), $until a time ("14:05").
card-caption = Покажите QR-код кассиру или назовите код <b>{ $code }</b>. Код одноразовый и действует до { $until }.
card-button-refresh = Обновить код
card-code-expired = Код устарел. Нажмите «Обновить код», чтобы получить новый.
