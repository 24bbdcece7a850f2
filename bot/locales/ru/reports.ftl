## Reports (models/reports/report.py, models/reports/rfm.py, bot/report_render.py).
## Every figure has a name (the message) and a one-line definition (.def). The definitions are
## sent by the "Что это значит?" button and are in the XLSX, never under every line.
## Values arrive already formatted as strings. Plain words: an owner reads these, not a developer.

report-title = 📊 Отчёт за { $from } – { $to }
report-title-scope = 📊 Отчёт за { $from } – { $to } ({ $scope })
report-details-title = 📋 Подробный отчёт за { $from } – { $to }
report-details-title-scope = 📋 Подробный отчёт за { $from } – { $to } ({ $scope })
report-definitions-title = ❓ Что значат показатели отчёта
report-line = { $name }: { $value }
report-definition = { $text }
report-dash = —
report-share = { $value } ({ $share })
report-of-which = { $value }, из них купили { $bought }
report-generations = { $n ->
    [one] { $n } поколение
    [few] { $n } поколения
   *[many] { $n } поколений
}
report-rating-value = { $count } (средняя { $average })
report-card-vs-no-card-value = { $card } против { $plain } ({ $uplift })
report-concentration-value = { $share } выручки
report-section-figures = Показатели
report-section-benefit = Выгода от программы
report-section-sources = По источникам
report-section-staff = Сотрудники
report-section-campaigns = Кампании и источники
report-section-rfm = Группы покупателей
report-section-promos = Промокоды
report-promo-line = { $code }: использований { $uses }, выдано { $points }
report-staff-line = { $name }: покупок по карте { $purchases }, без карты { $sales }, выручка { $revenue }, ср. чек по карте { $average }, оплачено баллами { $points }, привёл клиентов { $enrolled }, средняя оценка { $rating }
report-campaign-line = { $name }: открыли { $opened } → зарегистрировались { $registered } → сертификатов { $certificates } → купили { $buyers }, { $revenue }, стоимость { $cost }
report-source-line = { $name }: клиентов { $customers }, купили { $buyers }, выручка { $revenue }
report-rfm-line = { $name }: { $customers }, выручка { $revenue }
report-no-data = За этот период данных нет.

report-customers = Клиентов в базе
    .def = Все клиенты в базе на конец периода (пришли до его конца и не удалены).
report-new-customers = Новых клиентов
    .def = Клиенты, пришедшие в базу за период.
report-digitised = С картой в Telegram
    .def = Клиенты, у которых на конец периода есть карта в Telegram, и их доля от всех клиентов в базе.
report-buyers = Совершили покупки
    .def = Клиенты хотя бы с одной покупкой по карте за период (полностью возвращённые не считаются) и их доля от всех клиентов в базе.
report-purchases = Покупок по карте
    .def = Покупки по карте за период, кроме полностью возвращённых.
report-revenue = Выручка по карте
    .def = Сумма чеков по карте (деньги и баллы вместе) за вычетом возвратов.
report-average-check = Средний чек
    .def = Выручка по карте, делённая на число покупок по карте.
report-purchases-per-buyer = Покупок на покупателя
    .def = Покупки по карте, делённые на число клиентов, которые покупали.
report-points-paid = Оплачено баллами
    .def = Баллы, которыми оплатили покупки, в рублях, за вычетом возвращённых при возвратах.
report-actual-discount = Фактическая скидка
    .def = Какую долю выручки по карте оплатили баллами.
report-referred = Пришли по рекомендации
    .def = Новые клиенты за период, пришедшие по реферальной ссылке, и сколько из них купили.
report-referral-depth = Самая длинная цепочка рекомендаций
    .def = Сколько поколений в самой длинной цепочке: друг клиента — 1-е поколение, его друг — 2-е.
report-referred-revenue = Выручка от приведённых друзьями
    .def = Выручка за период от клиентов, пришедших по рекомендации.
report-certificate-revenue = Выручка с покупок по сертификатам
    .def = Выручка покупок, при оплате которых использован сертификат.
report-certificates = Выдано сертификатов
    .def = Сертификаты, выданные за период: день рождения, возвращение клиента, кампании, от владельца.
report-ratings = Оценок визитов
    .def = Оценки визитов (1–5), полученные за период, и их среднее.
report-saving = Сэкономили по сравнению с прямой скидкой
    .def = Сколько стоила бы прямая скидка { $percent }% на ту же выручку по карте, минус то, что оплатили баллами.
report-brought-revenue = Выручка от клиентов из кампаний и ссылок
    .def = Выручка за период от клиентов, пришедших по ссылкам кампаний и источников (не по рекомендации, не с улицы, не импорт).
report-total-benefit = Общая выгода от программы
    .def = Сумма трёх строк: сэкономили по сравнению с прямой скидкой, выручка от приведённых друзьями и выручка от клиентов из кампаний и ссылок.
report-benefit-none = нет покупок за период — измерять нечего
report-benefit-negative = нет: баллами оплатили на { $amount } больше, чем стоила бы прямая скидка
report-saving-negative = нет: баллами оплатили на { $amount } больше, чем стоила бы прямая скидка
report-card-vs-no-card = Средний чек: с картой и без
    .def = Средний чек по карте против среднего чека продаж без карты за тот же период, разница в процентах.
report-return-rate = Вернулись за повторной покупкой
    .def = Доля покупателей периода, сделавших две покупки и больше.
report-frequent = Сделали больше 4 покупок
    .def = Доля всех клиентов в базе, сделавших за период больше четырёх покупок.
report-top20 = Топ-20% покупателей приносят
    .def = Доля выручки от пятой части покупателей с самой большой выручкой.
report-buyers-60 = 60% выручки приносят
    .def = Наименьшая доля покупателей (с самыми большими суммами), дающая 60% выручки.
report-no-card-sales = Продаж без карты
    .def = Продажи, записанные сотрудниками без карты клиента, и их сумма.

report-source-referral = По рекомендации
report-source-campaign = Кампании
report-source-source = Ссылки-источники
report-source-staff = Сотрудники
report-source-import = Импорт
report-source-walk_in = С улицы

report-cert-birthday = день рождения
report-cert-winback = возвращение клиента
report-cert-campaign = кампании
report-cert-owner = от владельца

rfm-champions = Чемпионы
    .def = Покупали недавно и часто (R 4–5, F 4–5).
rfm-loyal = Лояльные
    .def = Постоянные клиенты (R 3–5, F 3–5).
rfm-new = Новые
    .def = Первая покупка недавно (R 4–5, F 1).
rfm-potential = Перспективные
    .def = Покупали недавно, но ещё не постоянные (R 3–5, F 1–2).
rfm-cant_lose = Нельзя потерять
    .def = Были лучшими клиентами и пропали (R 1–2, F 4–5, M 4–5).
rfm-at_risk = Под угрозой
    .def = Были постоянными и пропали (R 1–2, F 3–5).
rfm-hibernating = Спящие
    .def = Покупали один-два раза довольно давно (R 2, F 1–2).
rfm-lost = Потерянные
    .def = Покупали один-два раза давно (R 1, F 1–2).
rfm-none = Ещё не покупали

chart-revenue-title = Выручка по месяцам
chart-revenue-card = По карте
chart-revenue-no-card = Без карты
chart-revenue-axis = Выручка, ₽
chart-new-title = Новые клиенты по источникам
chart-new-axis = Клиентов
chart-rfm-title = RFM: давность × частота (клиентов)
chart-rfm-r = R — давность (5 — недавно)
chart-rfm-f = F — частота (5 — часто)
chart-referral-title = Глубина рекомендаций
chart-referral-axis = Клиентов
chart-referral-generation = Поколение
chart-funnel-title = Воронки кампаний
chart-funnel-opened = Открыли ссылку
chart-funnel-registered = Зарегистрировались
chart-funnel-certificates = Сертификатов
chart-funnel-bought = Купили

xlsx-summary = Сводка
xlsx-sources = Источники
xlsx-staff = Сотрудники
xlsx-campaigns = Кампании
xlsx-monthly = По месяцам
xlsx-rfm = RFM
xlsx-movement = Движение RFM
xlsx-referrals = Рекомендации
xlsx-certificates = Сертификаты
xlsx-figure = Показатель
xlsx-value = Значение
xlsx-definition = Определение
xlsx-name = Название
xlsx-code = Код
xlsx-month = Месяц
xlsx-customers = Клиентов
xlsx-count = Количество
xlsx-points = Баллов
xlsx-revenue = Выручка, ₽
xlsx-average-check = Средний чек, ₽
xlsx-points-paid = Оплачено баллами, ₽
xlsx-operations = Операций
xlsx-purchases = Покупок по карте
xlsx-no-card = Продаж без карты
xlsx-no-card-revenue = Выручка без карты, ₽
xlsx-enrolled = Привёл клиентов
xlsx-ratings = Оценок
xlsx-average-rating = Средняя оценка
xlsx-segment = Сегмент
xlsx-before = Было
xlsx-after = Стало
xlsx-generation = Поколение
xlsx-kind = Вид
xlsx-opened = Открыли ссылку
xlsx-registered = Зарегистрировались
xlsx-certificates-issued = Сертификатов
xlsx-buyers = Купили
xlsx-cost = Стоимость, баллов
xlsx-digitised = С картой в Telegram
xlsx-new = Новых

# The scheduler's monthly message to the owners (models.reports.report.monthly_report_payload): the
# same short summary as /report, with the same figure names and the same two buttons.
report-monthly = 📊 Итоги за { $month }

    { report-revenue }: { MONEY($revenue) }
    { report-purchases }: { $purchases }
    { report-average-check }: { $purchases ->
        [0] —
       *[other] { MONEY($average) }
    }
    { report-new-customers }: { $new }
    { report-return-rate }: { $buyers ->
        [0] —
       *[other] { $returning }%
    }
    { report-points-paid }: { MONEY($points_paid) }
    { report-total-benefit }: { $benefit_state ->
        [none] { report-benefit-none }
        [negative] нет: баллами оплатили на { MONEY($shortfall) } больше, чем стоила бы прямая скидка
       *[positive] { MONEY($benefit) }
    }

    Графики и таблица Excel: /report

## /report in the bot
report-choose-period = За какой период показать отчёт?
report-period-month = Этот месяц
report-period-last-month = Прошлый месяц
report-period-year = Этот год
report-period-last-year = Прошлый год
report-period-all = За всё время
report-period-custom = Свои даты
report-custom-prompt = Пришлите период в виде «01.03.2026 - 31.03.2026».
report-custom-bad = Не понял период. Пример: «01.03.2026 - 31.03.2026» — сначала первый день, потом последний.
report-working = Считаю отчёт…
report-xlsx-caption = Все таблицы отчёта в Excel (с определениями показателей).
report-button-more = Подробнее
report-button-definitions = Что это значит?
report-stale = Эта кнопка отчёта устарела или повреждена. Откройте /report и выберите период заново.

## Charts and the workbook: axis labels and typed rows (issue 16, bot/report_render.py).
chart-month-axis = Месяц
chart-rfm-scale = Клиентов в клетке
chart-funnel-axis = Количество (людей или сертификатов)
chart-funnel-campaign = Кампания или источник
xlsx-period-from = Период: с
xlsx-period-to = Период: по
xlsx-scope = Срез
xlsx-share-of = { $name }: доля от клиентов в базе
xlsx-referred-bought = Из пришедших по рекомендации купили
xlsx-certificates-of-kind = Сертификатов: { $kind }
xlsx-average-card = Средний чек по карте
xlsx-average-no-card = Средний чек без карты
xlsx-no-card-total = Сумма продаж без карты
xlsx-with-card = С картой в Telegram
xlsx-card-revenue = Выручка по карте, ₽
xlsx-new-from = Новых: { $source }
xlsx-rfm-grid = F (частота) \ R (давность)
