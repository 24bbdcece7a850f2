## Promo codes (issue 18; models/promo.py)

report-cert-promo = промокоды

## The customer's /promo (handlers/customer_promo.py)

promo-ask = Отправьте промокод вместе с командой, например: <code>/promo ЛЕТО2026</code>
promo-accepted = 🎁 Промокод <b>{ $code }</b> принят: сертификат на { $points } { $points ->
    [one] балл
    [few] балла
   *[many] баллов
} до { $date }. Им можно оплатить до { $percent }% покупки — покажите карту на кассе.
promo-refused-format = Промокод — это от 3 до 20 букв и цифр. Проверьте, что вы ввели, и отправьте ещё раз.
promo-refused-unknown = Промокода «{ $code }» нет. Проверьте написание.
promo-refused-disabled = Промокод «{ $code }» больше не действует.
promo-refused-not-yet = Промокод «{ $code }» ещё не начал действовать.
promo-refused-expired = Срок действия промокода «{ $code }» закончился.
promo-refused-used-up = Промокод «{ $code }» уже использовали столько раз, сколько было можно.
promo-refused-already = Вы уже использовали промокод «{ $code }»: он действует один раз на человека.
promo-refused-blocked = Сейчас промокод нельзя использовать: ваша карта заблокирована. Обратитесь к администратору.
