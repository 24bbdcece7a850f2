## Notifications sent by the outbox sender (bot/sender.py). Arguments follow the
## sender's conventions: $amount is already formatted money, $expires/$date formatted
## dates; numbers of points stay numbers so plurals work.

notify-purchase =
    Покупка на { $amount }.
    { $paid ->
        [0] Баллами не оплачивали.
        [one] Оплачено { $paid } баллом.
       *[other] Оплачено { $paid } баллами.
    }
    Начислено: +{ $earned ->
        [one] { $earned } балл
        [few] { $earned } балла
       *[many] { $earned } баллов
    }. Баланс: { $balance ->
        [one] { $balance } балл
        [few] { $balance } балла
       *[many] { $balance } баллов
    }.
    Оцените, пожалуйста, визит:
notify-tier-up = 🎉 Поздравляем! Ваш новый статус — «{ $tier }». Кешбэк вырастет со следующей покупки.
notify-friend-joined = 👥 По вашей ссылке присоединился друг: { $name }. Когда друг сделает покупку, вам начислим баллы.
notify-referral-reward = 👥 Ваш друг (уровень { $level }) сделал покупку: +{ $points ->
    [one] { $points } балл
    [few] { $points } балла
   *[many] { $points } баллов
}.
notify-refund =
    Оформлен возврат покупки на { $amount }.
    Вернули на счёт: { $returned ->
        [one] { $returned } балл
        [few] { $returned } балла
       *[many] { $returned } баллов
    }; списано начисленных за покупку: { $reversed ->
        [one] { $reversed } балл
        [few] { $reversed } балла
       *[many] { $reversed } баллов
    }.
    Баланс: { $balance ->
        [one] { $balance } балл
        [few] { $balance } балла
       *[many] { $balance } баллов
    }.
notify-adjustment = Баланс изменён: { $delta_sign }{ $delta_abs ->
    [one] { $delta_abs } балл
    [few] { $delta_abs } балла
   *[many] { $delta_abs } баллов
}. Причина: { $reason }
notify-certificate = 🎁 { $kind ->
    [birthday] С днём рождения! Вам подарок —
    [winback] Мы соскучились! Вам подарок —
    [campaign] Подарок по акции —
   *[other] Вам подарок —
} сертификат на { $points ->
    [one] { $points } балл
    [few] { $points } балла
   *[many] { $points } баллов
}. Им можно оплатить до { $cap }% чека, действует до { $expires }.
notify-review-approved = ⭐ Спасибо за отзыв на { $site }! Начислено: +{ $points ->
    [one] { $points } балл
    [few] { $points } балла
   *[many] { $points } баллов
}.
notify-review-approved-again = ⭐ Спасибо за отзыв на { $site }! Баллы за отзыв на этом сайте уже начислялись раньше.
notify-review-rejected = К сожалению, отзыв на { $site } не прошёл проверку. Если это ошибка, обратитесь к администратору.

## Messages to the staff chat

notify-staff-review = 📝 Отзыв на проверку: { $site }. Гость: { $name } (#{ $customer }). Награда: { $points ->
    [one] { $points } балл
    [few] { $points } балла
   *[many] { $points } баллов
}.
notify-staff-low-rating = ⚠️ Низкая оценка: { $score } из 5. Гость: { $name } (#{ $customer }), покупка #{ $operation } на { $amount }, сотрудник: { $staff }.
notify-staff-rating-comment = 💬 Гость { $name } (#{ $customer }) о покупке #{ $operation } (оценка { $score } из 5): «{ $text }»
