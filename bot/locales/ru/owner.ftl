## The owner's tools (handlers/owner*.py). HTML: user-supplied values arrive escaped.

owner-menu = <b>Инструменты владельца</b>
    /program — программа лояльности
    /campaigns — кампании, источники и их воронки
    /broadcast — новая рассылка, /broadcasts — история
    /find — найти клиента
    /import, /export — загрузка и выгрузка базы
    /promocodes — промокоды
    /report — отчёт
    /audit — журнал действий
    /staff — сотрудники и приглашения
    /api — ключи для кассы
owner-menu-program = Программа
owner-menu-campaigns = Кампании
owner-menu-promocodes = Промокоды
owner-menu-broadcast = Рассылка
owner-menu-broadcasts = История рассылок
owner-menu-find = Найти клиента
owner-menu-import = Импорт
owner-menu-export = Экспорт
owner-menu-audit = Журнал
owner-refused = Эта команда доступна только владельцу. Попытка записана в журнал.
owner-stale = Эта кнопка устарела. Начните заново.
owner-file-too-large = Файл больше 20 МБ — Telegram не даёт боту скачать такой. Разделите его на части.

## Program

program-head = <b>Программа «{ $name }»</b>, версия { $version }
program-tiers-money = Статусы (по сумме оплат деньгами):
program-tiers-purchases = Статусы (по числу покупок):
program-tier = { $n }. <b>{ $name }</b>: кешбэк { $cashback }%, баллами до { $cap }% чека, от { $threshold }
program-tier-window = Статус считается за последние { $days } дн.
program-welcome = За регистрацию: { $points ->
    [one] { $points } балл
    [few] { $points } балла
   *[many] { $points } баллов
}
program-referral = Рефералы: { $levels } от оплаты друзей по уровням
program-referral-off = Реферальных начислений нет
program-referral-first = За первую покупку друга: { $points } б.
program-validity = Баллы действуют { $days } дн.
program-validity-forever = Баллы не сгорают
program-birthday = День рождения: { $points } б., до { $cap }% чека, действует { $days } дн., за { $extra } дн. до даты
program-birthday-off = Подарка на день рождения нет
program-winback = Возвращение клиента: через { $extra } дн. без покупок — { $points } б., до { $cap }% чека, действует { $days } дн.
program-winback-off = Сертификата за возвращение нет
program-review = Отзыв на { $site }: { $points } б.
program-refunds = Возврат покупки возможен { $days } дн.
program-hint = Чтобы изменить программу целиком, пришлите TOML-файл (кнопка «Скачать TOML» даёт текущий). Частые настройки — кнопками ниже.
program-download = Скачать TOML
program-set-welcome-points = Баллы за регистрацию
program-set-cashback = Кешбэк «{ $tier }»
program-set-cap = Лимит оплаты баллами «{ $tier }»
program-set-birthday-points = ДР: баллы
program-set-birthday-cap = ДР: лимит %
program-set-birthday-validity = ДР: срок, дн.
program-set-birthday-enabled = ДР: вкл/выкл
program-set-winback-points = Возвращение клиента: баллы
program-set-winback-after-days = Возвращение клиента: через дн.
program-set-winback-enabled = Возвращение клиента: вкл/выкл
program-ask-value = { $setting }: сейчас { $current }.
program-ask-percent = Пришлите новое значение в процентах, например 5 или 5,5%.
program-ask-points = Пришлите число баллов, например 300.
program-ask-days = Пришлите число дней, например 30.
program-ask-switch = Включить? Ответьте «да» или «нет».
program-error-whole = { $setting }: нужно целое число, например 300. Пришлите ещё раз.
program-error-percent = { $setting }: нужны проценты от 0 до 100, например 5 или 5,5%. Пришлите ещё раз.
program-error-yes-no = { $setting }: ответьте «да» или «нет».
program-error-digits = { $setting }: наберите число обычными цифрами 0–9.
program-error-program = { $setting }: с таким значением программа не проходит проверку (например, лимит или срок вне допустимого). Пришлите другое значение.
program-error-text-no-language = текст не написан ни на одном языке: напишите его одной строкой, "Гость", или по языкам, {"{"} ru = "Гость", en = "Guest" {"}"}
program-error-text-unknown-language = язык «{ $unknown }» бот не знает: тексты пишутся по-русски (ru) и по-английски (en)
program-error-text-too-short = пустой текст: напишите, как его прочтут клиенты
program-error-text-too-long = «{ $text }» длиннее { $max } знаков: сократите
program-error-text-pattern = «{ $text }»: можно только буквы, цифры, пробелы, точку и дефис
program-value-off = выключено
program-label-welcome-validity = Срок баллов за регистрацию, дн.
program-label-points-validity = Срок действия баллов, дн.
program-label-points-pending = Кешбэк доступен через, дн.
program-label-expiry-warning = Предупреждать о сгорании за, дн.
program-label-birthday-before = ДР: поздравлять за, дн.
program-label-winback-cap = Возвращение клиента: лимит %
program-label-winback-validity = Возвращение клиента: срок, дн.
program-label-referral-levels = Рефералам от оплаты друзей, по уровням
program-label-referral-first = За первую покупку друга, баллов
program-label-refund-window = Срок возврата покупки, дн.
program-label-business-name = Название программы
program-label-tier-threshold = Порог статуса «{ $tier }»
program-label-tier-name = Название статуса «{ $tier }»
program-invalid = Программа не принята:
    { $errors }
program-not-utf8 = файл не в кодировке UTF-8
program-no-changes = Изменений нет — программа та же.
program-diff-head = Изменения относительно версии { $version }:
program-diff-line = • { $key }: { $old } → <b>{ $new }</b>
program-button-apply = Применить
program-applied = Готово: действует версия { $version }. Уже проведённые операции не меняются.
program-dropped = Изменения отменены.
program-stale = Программу только что изменили. Откройте /program и повторите.

## Campaigns and sources

campaigns-head = <b>Кампании и источники</b> (открыли → зарегистрировались → сертификатов → купили, выручка, расход баллов)
campaigns-empty = Пока нет ни одной кампании.
campaigns-row = 🎁 <b>{ $name }</b> (g_{ $code }): { $opened } → { $registered } → { $certificates } → { $buyers }, { $revenue }, { $cost } б.
campaigns-row-source = 🔗 <b>{ $name }</b> (s_{ $code }): { $opened } → { $registered } → { $certificates } → { $buyers }, { $revenue }, { $cost } б.
campaigns-button-new = Новая кампания
campaigns-button-source = Новый источник
campaign-new = Новая кампания с сертификатом. Отвечайте по шагам; «-» пропускает необязательный шаг, /cancel — выход.
campaign-ask-name = Название кампании (до 80 символов)?
campaign-ask-points = Сколько баллов в сертификате?
campaign-ask-cap = Какую долю чека можно оплатить сертификатом, %? («-» — 100%)
campaign-ask-validity = Сколько дней действует сертификат?
campaign-ask-limit = Сколько сертификатов выдать максимум? («-» — без ограничения)
campaign-ask-ends = До какой даты включительно работает ссылка (дд.мм.гггг)? («-» — бессрочно)
campaign-ask-partner = Партнёр (для кросс-маркетинга)? («-» — нет)
campaign-bad-answer = Не понял ответ.
campaign-invalid = Кампанию не создать ({ $reason }). Начнём заново.
campaign-recap = Проверьте кампанию:
    «{ $name }»: сертификат на { $points } б., им можно оплатить до { $cap }% чека, действует { $validity } дн.
    Сертификатов не больше: { $limit }. Ссылка работает до: { $ends }. Партнёр: { $partner }.
campaign-recap-no-limit = без ограничения
campaign-recap-no-end = бессрочно
campaign-recap-no-partner = нет
campaign-button-create = ✅ Создать
campaign-created = Кампания создана.
campaign-dropped = Кампания не создана.
campaign-invalid-recap = Кампанию не создать ({ $reason }). Начните заново: /campaigns.
campaign-link = 🎁 Кампания «{ $name }»
    Ссылка: { $link }
    QR-код можно распечатать.
source-link = 🔗 Источник «{ $name }»
    Ссылка: { $link }
    QR-код можно распечатать.
campaign-stop-offer = Остановить кампанию «{ $name }»? Новые сертификаты выдаваться не будут.
campaign-button-stop = Остановить
campaign-stopped = Кампания остановлена.
source-ask-tag = Метка источника латиницей, цифрами, «_» или «-» (например instagram)?
source-bad-tag = Метка: только латиница, цифры, «_» и «-», до 32 символов.
source-tag-taken = Такая метка уже есть. Придумайте другую.

## Broadcasts

broadcast-ask-content = Пришлите текст рассылки (форматирование сохранится) или фото с подписью. /cancel — отмена.
broadcast-too-long = Слишком длинно: не больше { $limit } символов.
broadcast-ask-button = Добавить кнопку-ссылку? Пришлите «Текст кнопки | https://адрес» или нажмите «Без кнопки».
broadcast-no-button = Без кнопки
broadcast-bad-button = Нужно так: Текст кнопки | https://example.com
broadcast-ask-segment = Кому отправить?
broadcast-ask-value = Уточните:
broadcast-no-options = Вариантов пока нет.
broadcast-ask-days-inactive = Сколько дней без покупок (не меньше)?
broadcast-ask-days-expiring = Сертификат сгорает в ближайшие сколько дней?
broadcast-bad-days = Нужно целое число дней от 1 до 3650.
broadcast-summary = Выше — так увидят сообщение клиенты.
    Сегмент: { $segment }
    Получателей: <b>{ $n }</b>
broadcast-button-send = Отправить ({ $n })
broadcast-queued = Рассылка поставлена в очередь: { $n } получ.
broadcast-progress = 📤 Рассылка #{ $id }: отправлено { $sent } из { $total }
    не доставлено: { $failed }, заблокировали бота: { $blocked }
    осталось: { $remaining }, примерно { $eta }
broadcast-progress-done = ✅ Рассылка #{ $id } завершена: отправлено { $sent } из { $total }
    не доставлено: { $failed }, заблокировали бота: { $blocked }
broadcast-progress-cancelled = ⛔ Рассылка #{ $id } остановлена: отправлено { $sent } из { $total }
    не доставлено: { $failed }, заблокировали бота: { $blocked }, отменено: { $cancelled }
broadcast-button-stop = Остановить рассылку
broadcast-stopped = Остановлено; не отправлено: { $n }
broadcasts-head = <b>Рассылки</b>
broadcasts-empty = Рассылок ещё не было.
broadcasts-row = #{ $id } { $date } { $status } — { $segment }: «{ $preview }»
    всего { $total }, отправлено { $sent }, не доставлено { $failed }, заблокировали { $blocked }, осталось { $remaining }
broadcast-status-draft = черновик
broadcast-status-sending = отправляется
broadcast-status-done = завершена
broadcast-status-cancelled = остановлена
owner-eta-hours = { $h } ч { $m } мин
owner-eta-minutes = { $m } мин { $s } с
owner-eta-seconds = { $s } с
owner-segment-all = Все
owner-segment-tier = Статус
owner-segment-inactive = Давно не покупали
owner-segment-rfm = RFM-сегмент
owner-segment-campaign = Кампания / источник
owner-segment-source-kind = Откуда пришли
owner-segment-birthday-month = Месяц рождения
owner-segment-expiring = Сгорает сертификат
owner-source-referral = по приглашению
owner-source-campaign = кампания
owner-source-source = источник
owner-source-staff = сотрудник
owner-source-import = импорт
owner-source-walk-in = сами
owner-month-1 = январь
owner-month-2 = февраль
owner-month-3 = март
owner-month-4 = апрель
owner-month-5 = май
owner-month-6 = июнь
owner-month-7 = июль
owner-month-8 = август
owner-month-9 = сентябрь
owner-month-10 = октябрь
owner-month-11 = ноябрь
owner-month-12 = декабрь

## Import and export

import-ask-file = Пришлите файл CSV или XLSX: нашу выгрузку (/export) или свой файл с заголовком <code>phone,name,birthday,balance,total_spent,purchases,source</code> (обязателен только телефон — столбец phone или «Телефон»; даты дд.мм.гггг или гггг-мм-дд; суммы в рублях; разделитель «;» или «,»; UTF-8 или Windows-1251). Сначала я покажу, что получится.
import-plan = <b>Проверка файла</b>: строк { $rows }
    будет создано клиентов: { $create }, баллов: { $points }
    уже загружены раньше: { $imported }
    ошибок: { $errors }
import-unknown-columns = Неизвестные столбцы пропущены: { $columns }
import-new-sources = Новые источники — будут созданы (ссылки s_… появятся в /campaigns): { $sources }
import-bad-sources = Эти источники не подходят как метки (только латиница, цифры, «-» и «_», до 32 символов) — клиенты загрузятся без них: { $sources }
import-error-line = строка { $line }, { $column }: { $reason } ({ $value })
import-more-errors = …и ещё ошибок: { $n }
import-nothing = Загружать нечего.
import-button-confirm = Загрузить ({ $n })
import-done = Загружено клиентов: { $created }, баллов: { $points }. Уже были: { $imported }, строк с ошибками: { $errors }.
import-file-not-xlsx = Файл назван .xlsx, но это не книга Excel. Сохраните его из Excel как XLSX или CSV.
import-file-bad-xlsx = Не удалось открыть книгу Excel: файл повреждён. Сохраните её заново или пришлите CSV.
import-file-not-text = Это не текстовый CSV. Пришлите CSV или XLSX.
import-file-no-header = В файле нет строки заголовка.
import-file-no-phone-column = В заголовке нет столбца с телефоном (phone или «Телефон»). Первая строка, например: phone,name,birthday,balance,total_spent,purchases,source — или заголовки нашей выгрузки.
import-file-empty = Файл пустой.
import-file-too-many-rows = Слишком много строк (больше 100 000). Разделите файл.
import-file-too-large = Файл слишком большой. Разделите его на части.
import-reason-bad-phone = неверный телефон
import-reason-missing-phone = нет телефона
import-reason-bad-date = неверная дата
import-reason-duplicate = повтор в файле
import-reason-exists = уже клиент
import-reason-bad-number = неверное число
import-reason-bad-name = слишком длинное имя
export-choose = Что выгрузить?
export-customers-csv = Клиенты, CSV
export-customers-xlsx = Клиенты, XLSX
export-operations-csv = Операции, CSV
export-operations-xlsx = Операции, XLSX
export-preparing = Готовлю файл…

## Customers

find-ask = Телефон, имя или 6-значный код клиента?
find-none = Никого не нашёл.
find-many = Найдено: { $n }. Выберите:
owner-card = <b>Клиент #{ $id }</b>: { $name }, { $phone }
    День рождения: { $birthday }
    Статус: { $tier } (закреплён: { $pinned })
    Баллы: { $balance }, сертификаты: { $certificates }
    Оплачено: { $paid }, покупок: { $purchases }
    Источник: { $source }, кампания: { $campaign }
    Telegram: { $linked }, заблокирован: { $blocked }, пригласил: { $invitees }
owner-card-referrer = Пригласил его: #{ $id } { $name }
owner-card-invitees = Его друзья: { $names }
owner-card-history = <b>История</b>:
owner-card-history-line = { $date } { $what } { $delta } { $amount }
owner-history-purchase = покупка
owner-history-referral = за друга
owner-history-refund = возврат
owner-history-referral-refund = возврат друга
owner-history-welcome = приветствие
owner-history-review = отзыв
owner-history-certificate = сертификат
owner-history-reward = награда
owner-history-manual = корректировка
owner-history-import = импорт
owner-history-expiry = сгорание
owner-history-certificate-expiry = сертификат истёк
owner-history-erase = удаление данных
owner-button-adjust = Начислить / списать
owner-button-pin = Закрепить статус
owner-button-block = Заблокировать
owner-button-unblock = Разблокировать
owner-button-unpin = Снять закрепление
owner-adjust-ask = Пришлите число и причину, например «+200 компенсация» или «-100 ошибка кассира».
owner-adjust-bad = Нужно так: +200 причина (или -100 причина).
owner-adjust-refused = Не получилось: { $reason }
owner-adjust-done = Готово: { $delta } б.
owner-pin-ask = Какой статус закрепить?
owner-pinned = Статус закреплён: { $tier }
owner-unpinned = Закрепление снято; статус: { $tier }
owner-blocked = Клиент заблокирован: не копит и не тратит баллы.
owner-unblocked = Клиент разблокирован.

## Audit

audit-head = <b>Журнал</b>, стр. { $page } из { $pages }
audit-line = { $date } { $time } — { $who }: { $what }
audit-who = { $name } ({ $role })
audit-telegram-id = Telegram { $id }
audit-role-owner = владелец
audit-role-staff = кассир
audit-role-customer = клиент
audit-role-system = система
audit-other = { $action } { $target }
audit-checkout-purchase = покупка №{ $id } на { MONEY($amount) }
audit-checkout-refund = возврат по покупке №{ $id }: { MONEY($amount) }
audit-checkout-sale-no-card = продажа без карты №{ $id } на { MONEY($amount) }
audit-checkout-quote = открыт чек на { MONEY($amount) }
audit-checkout-cancel = чек отменён
audit-checkout-find = открыта карта клиента №{ $id }
audit-checkout-phone-confirmation = клиенту отправлен запрос на списание баллов
audit-customer-create-by-phone = клиент №{ $id } добавлен по телефону
audit-customer-promo-redeem = промокод { $code } применён
audit-customer-broadcasts-off = клиент №{ $id } отказался от рассылок
audit-customer-broadcasts-on = клиент №{ $id } снова получает рассылки
audit-staff-invite = создана ссылка-приглашение для кассира
audit-staff-join = кассир присоединился по приглашению
audit-staff-rename = кассир переименован: { $name }
audit-staff-revoke = доступ кассира отозван
audit-owner-program = программа изменена, версия { $id }
audit-owner-adjust = баллы клиента №{ $id } изменены вручную
audit-owner-block = клиент №{ $id } заблокирован
audit-owner-unblock = клиент №{ $id } разблокирован
audit-owner-pin-tier = клиенту №{ $id } закреплён статус
audit-owner-unpin-tier = у клиента №{ $id } снят закреплённый статус
audit-owner-campaign-create = создана кампания { $code }
audit-owner-campaign-stop = кампания остановлена
audit-owner-promo-create = создан промокод { $code }
audit-owner-promo-disable = промокод { $code } остановлен
audit-owner-import = импорт клиентов
audit-owner-export = выгрузка клиентов
audit-owner-refused = попытка действия владельца без прав ({ $id })
audit-review-approve = отзыв одобрен
audit-review-reject = отзыв отклонён
audit-fraud-customer = подозрительно много операций клиента №{ $id } за день
audit-fraud-staff = кассир списал необычно много баллов за день
audit-api-key-create = создан ключ кассы
audit-api-key-revoke = ключ кассы отозван
audit-empty = Записей нет.
