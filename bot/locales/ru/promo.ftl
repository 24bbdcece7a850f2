## Promo codes (issue 18; models/campaigns/promo.py)

report-cert-promo = промокоды

## The customer's /promo (handlers/customer_promo.py)

promo-ask = Отправьте промокод вместе с командой, например: <code>/promo ЛЕТО2026</code>
promo-accepted = 🎁 Промокод <b>{ $code }</b> принят: сертификат на { $points } { $points ->
    [one] балл
    [few] балла
   *[many] баллов
} до { $date }. Им можно оплатить до { $percent }% покупки — покажите карту на кассе.
promo-link-unknown = Этого промокода нет: ссылка устарела или набрана с ошибкой.
promo-refused-format = Промокод — это от 3 до 20 букв и цифр. Проверьте, что вы ввели, и отправьте ещё раз.
promo-refused-unknown = Промокода «{ $code }» нет. Проверьте написание.
promo-refused-disabled = Промокод «{ $code }» больше не действует.
promo-refused-not-yet = Промокод «{ $code }» ещё не начал действовать.
promo-refused-expired = Срок действия промокода «{ $code }» закончился.
promo-refused-used-up = Промокод «{ $code }» уже использовали столько раз, сколько было можно.
promo-refused-already = Вы уже использовали промокод «{ $code }»: он действует один раз на человека.
promo-refused-blocked = Сейчас промокод нельзя использовать: ваша карта заблокирована. Обратитесь к администратору.

## The owner's /promocodes (handlers/owner_promo.py)

promo-owner-title = <b>Промокоды</b>
promo-owner-none = Промокодов пока нет.
promo-owner-how = Новый промокод: <code>/promocodes КОД БАЛЛЫ ДД.ММ.ГГГГ-ДД.ММ.ГГГГ [СКОЛЬКО РАЗ]</code>, например <code>/promocodes ЛЕТО24 200 01.06.2026-30.06.2026 100</code>. Гость вводит <code>/promo КОД</code> или открывает ссылку промокода и получает сертификат на эти баллы — один раз на человека.
promo-owner-line = • <b>{ $code }</b> — { $points } б., { $first } – { $last }, использован { $uses } из { $limit }, выдано { $given } б. — { $status ->
    [active] действует
    [not_yet] ещё не начался
    [expired] закончился
    [used_up] исчерпан
   *[disabled] остановлен
}
promo-owner-link = Ссылка на { $code }: { $link }
promo-owner-stop = Остановить { $code }
promo-owner-created = ✅ Промокод создан.
promo-owner-stopped = Промокод { $code } остановлен.
promo-owner-gone = Этого промокода уже нет.
promo-owner-bad = Не понял промокод. Напишите код, баллы и даты через пробел.
promo-owner-refused-format = Код — это от 3 до 20 букв и цифр.
promo-owner-refused-taken = Промокод «{ $code }» уже был (или похож на бывший). Придумайте другой: коды не повторяются.
promo-owner-refused-points = Баллов должно быть от 1 до 10 000 000.
promo-owner-refused-dates = Проверьте даты: последний день не раньше первого и не в прошлом.
promo-owner-refused-limit = Сколько раз можно использовать — целое число от 1.
promo-owner-refused-validity = Срок сертификата — от 1 до 3650 дней.
