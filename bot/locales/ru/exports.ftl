## Exported files: /export in the bot and `loyalty-bot export` (models/owner/exports.py).
## Column headers; the first seven are also what /import reads (models/owner/imports.py accepts
## these headers in Russian and English, and the column ids phone, name, …).

export-sheet-customers = Клиенты
export-sheet-operations = Операции

export-column-phone = Телефон
export-column-name = Имя
export-column-birthday = День рождения
export-column-balance = Баллы
export-column-total_spent = Сумма покупок, ₽
export-column-purchases = Покупок
export-column-source = Источник
export-column-id = Клиент №
export-column-certificates = Баллы сертификатов
export-column-tier = Статус
export-column-tier_pinned = Закреплённый статус
export-column-source_kind = Откуда пришёл
export-column-registered_at = Зарегистрировался в боте
export-column-telegram_linked = Карта в Telegram
export-column-blocked = Заблокирован
export-column-created_at = В базе с
export-column-last_purchase_at = Последняя покупка
export-column-referrer_id = Пригласил (клиент №)

export-column-operation_id = Операция №
export-column-when = Дата и время
export-column-kind = Операция
export-column-customer_id = Клиент №
export-column-staff = Сотрудник
export-column-amount = Сумма чека, ₽
export-column-money_paid = Оплачено деньгами, ₽
export-column-points_paid = Оплачено баллами
export-column-cashback = Начислено баллов
export-column-referral_paid = Баллов пригласившему
export-column-points_delta = Изменение баллов
export-column-refunded = Возвращено, ₽
export-column-shortfall = Не удалось списать баллов
export-column-receipt_number = Номер чека
export-column-channel = Откуда
export-column-program_version = Версия программы
export-column-comment = Комментарий

export-yes = да
export-no = нет

export-kind-purchase = Покупка
export-kind-refund = Возврат покупки
export-kind-manual = Ручное изменение баллов
export-kind-import = Перенос баланса
export-kind-reward = Начисление баллов
export-kind-sale_no_card = Продажа без карты
export-kind-expiry = Сгорание баллов

export-channel-bot = бот
export-channel-api = касса (API)
export-channel-cli = командная строка
export-channel-job = автоматически
export-channel-import = импорт

export-came-from-referral = По рекомендации
export-came-from-campaign = По ссылке кампании
export-came-from-source = По ссылке-источнику
export-came-from-staff = Через сотрудника
export-came-from-import = Импорт
export-came-from-walk_in = С улицы
