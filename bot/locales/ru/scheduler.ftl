## Messages the scheduled jobs write to the outbox (scheduler/, models/automation/jobs.py).
## Dates come as numbers ($day, $month) and are shown by scheduler-date: "12.03".

# A date as day and month, used inside the messages below.
scheduler-date = { $day ->
    [1] 01
    [2] 02
    [3] 03
    [4] 04
    [5] 05
    [6] 06
    [7] 07
    [8] 08
    [9] 09
   *[other] { $day }
}.{ $month ->
    [1] 01
    [2] 02
    [3] 03
    [4] 04
    [5] 05
    [6] 06
    [7] 07
    [8] 08
    [9] 09
   *[other] { $month }
}

# Birthday greeting with the certificate. $cap is a percent of the check.
scheduler-birthday = 🎂 { $name }, с днём рождения!
    Дарим сертификат на { $points ->
        [one] { $points } балл
        [few] { $points } балла
       *[many] { $points } баллов
    }: им можно оплатить до { $cap }% чека до { scheduler-date } включительно.

# The same, sent program.birthday.days_before days early: $birthday is "DD.MM".
scheduler-birthday-soon = 🎂 { $name }, скоро ваш день рождения — { $birthday }! Дарим сертификат заранее: { $points ->
        [one] { $points } балл
        [few] { $points } балла
       *[many] { $points } баллов
    }. Им можно оплатить до { $cap }% чека уже сейчас и до { scheduler-date } включительно.

# An unused certificate, CERTIFICATE_REMINDER_DAYS before its end (models/automation/jobs.py).
scheduler-certificate-reminder = 🎁 Напоминаем: ваш сертификат на { $points ->
        [one] { $points } балл
        [few] { $points } балла
       *[many] { $points } баллов
    } действует до { scheduler-date } включительно. Покажите карту на кассе, чтобы им оплатить.

# Win-back: $days without a purchase.
scheduler-winback = { $name }, давно не виделись! Мы скучаем и дарим сертификат на { $points ->
        [one] { $points } балл
        [few] { $points } балла
       *[many] { $points } баллов
    }: им можно оплатить до { $cap }% чека до { scheduler-date } включительно. Ждём вас!

# "350 баллов сгорят 12.03"
scheduler-expiry-warning = ⏳ { $points ->
        [one] { $points } балл сгорит
        [few] { $points } балла сгорят
       *[many] { $points } баллов сгорят
    } { scheduler-date }. Успейте потратить баллы!

scheduler-tier-down = Ваш статус изменился: «{ $previous }» → «{ $tier }». Статус считается по покупкам за последнее время — вернуть его можно новыми покупками.
scheduler-tier-up = Поздравляем! Ваш новый статус — «{ $tier }».
scheduler-tier-near-money = Совсем чуть-чуть до статуса «{ $tier }»: осталось купить на { MONEY($kopecks) }.
scheduler-tier-near-purchases = Совсем чуть-чуть до статуса «{ $tier }»: { $count ->
        [one] осталась { $count } покупка
        [few] осталось { $count } покупки
       *[many] осталось { $count } покупок
    }.

