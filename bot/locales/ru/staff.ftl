## Сотрудники на кассе (handlers/staff.py, models/till/). Разметка HTML.
## $points, $balance, $earned... переданные текстом уже отформатированы ("100 баллов");
## $amount, $cash, $revenue, $average — копейки для MONEY().

## Приглашения и список сотрудников

staff-welcome = Добро пожаловать в команду, <b>{ $name }</b>! Теперь вы можете обслуживать клиентов.
staff-ask-name = Пришлите имя, которое будут видеть клиенты и отчёты.
staff-name-set = Готово, теперь вас зовут <b>{ $name }</b>.
staff-list-head = <b>Сотрудники</b>
staff-list-row = • { $name } ({ $role })
staff-role-owner = владелец
staff-role-staff = сотрудник
staff-invite-created = Одноразовая ссылка-приглашение, действует 24 часа. Отправьте её новому сотруднику:
    { $link }
staff-revoked = У сотрудника { $name } больше нет доступа.

## Поиск клиента

staff-customer-found = <b>{ $name }</b> · статус «{ $tier }»
    Баланс: { $balance }
staff-customer-certificates = Сертификаты: { $points }
staff-found-by-phone = Найден по номеру телефона: оплата баллами — только с подтверждением клиента в боте.
staff-found-by-phone-no-telegram = Найден по номеру телефона; у клиента ещё нет Telegram, поэтому баллы можно только начислить.
staff-ask-amount = Введите сумму чека, например 12 250 или 12250,50.
staff-phone-unknown = Клиента с номером { $phone } нет. Создать клиента с этим номером и начислить ему баллы?

## Расчёт

staff-quote-head = <b>{ $name }</b> · «{ $tier }» · баланс { $balance }
    Чек: { MONEY($amount) }
staff-quote-certificate = Сертификат: { $points }, оплачивает до { $percent }% чека, действует до { $until }
staff-quote-max = Можно списать до <b>{ $points }</b>: { $reason }.
staff-quote-why-cap = статус «{ $tier }» позволяет оплатить { $percent }% чека
staff-quote-why-balance = это весь баланс
staff-quote-with-certificate = Из них { $points } — сертификатом.
staff-quote-nothing-to-pay = Баллов для оплаты нет.
staff-quote-accrual-only = Баллы можно только начислить (клиент найден по телефону, подтвердить оплату он не может).
staff-quote-phone-confirmation = Клиента попросят подтвердить оплату баллами в боте.
staff-quote-cashback = Без оплаты баллами клиент получит { $earned }.
staff-quote-requoted = Баланс клиента изменился после расчёта. Новые цифры:
staff-ask-points = Сколько баллов списать? Не больше { $max }.
staff-points-not-a-number = Введите целое число баллов, например 150.
staff-choose-certificate = Выберите сертификат:

## Подтверждение и чек

staff-confirm = <b>{ $name }</b>
    Чек: { MONEY($amount) }
    Баллами: { $points }
    К оплате: <b>{ MONEY($cash) }</b>
    Кешбэк: +{ $earned }
staff-receipt = ✅ Покупка №{ $operation }
    Чек: { MONEY($amount) }
    Баллами: { $points }
    Оплачено: { MONEY($cash) }
    Кешбэк: +{ $earned }
    Баланс клиента: { $balance }
staff-purchase-done = Покупка записана.
staff-checkout-cancelled = Расчёт отменён.
staff-waiting-customer = ⏳ Ждём подтверждения клиента в боте (до { $until }).
staff-customer-confirmed = ✅ Подтверждено. Списано { $points }.
staff-customer-declined = Вы отказались от оплаты баллами. Ничего не списано.
staff-customer-answer-stale = На этот запрос уже ответили.
staff-customer-answer-failed = Покупку провести не удалось, ничего не списано. Кассир начнёт заново.
staff-customer-answer-cancelled = Кассир отменил этот запрос. Ничего не списано.

## Сообщения через исходящую очередь

staff-phone-confirm-request = Кассир хочет оплатить вашу покупку на { MONEY($amount) } баллами: { $points ->
        [one] { $points } балл
        [few] { $points } балла
       *[many] { $points } баллов
    }; доплатить нужно { MONEY($cash) }. Подтвердите в течение { $minutes } мин. Если это не вы — нажмите «Отклонить».
staff-phone-confirmed = ✅ Клиент подтвердил. Покупка №{ $operation }: чек { MONEY($amount) }, баллами { $paid }, оплачено { MONEY($cash) }, кешбэк +{ $earned }.
staff-phone-declined = ❌ Клиент отказался от оплаты баллами. Начните расчёт заново, чтобы только начислить.
staff-phone-expired = ⌛ Клиент не подтвердил вовремя. Начните расчёт заново.
staff-phone-stale = Баланс клиента изменился до подтверждения. Начните расчёт заново.
staff-phone-failed = После подтверждения клиента покупку записать не удалось. Начните расчёт заново.
staff-fraud-customer = ⚠️ Необычная активность: у клиента { $customer } (№{ $customer_id }) сегодня { $count } операций (порог { $limit }).
staff-fraud-staff = ⚠️ Необычная активность: { $staff } сегодня принял(а) к оплате { $points } баллов (порог { $limit }).

## Возвраты и продажи без карты

staff-btn-refund = ↩️ Возврат
staff-refund-ask = Оформить возврат покупки №{ $operation } (чек { MONEY($amount) })? Можно вернуть до { MONEY($refundable) }.
staff-ask-refund-amount = Введите сумму возврата, например 1 500.
staff-refund-preview = Возврат по покупке №{ $operation }: { MONEY($amount) }, из них деньгами { MONEY($cash) }. Клиенту вернётся { $returned }, спишется кешбэка { $reversed }. Оформить?
staff-btn-refund-go = ✅ Вернуть { MONEY($amount) }
staff-btn-refund-no = Отмена
staff-refund-not-done = Возврат не оформлен.
staff-refund-done = ↩️ Возврат по покупке №{ $operation }: { MONEY($amount) }, деньгами { MONEY($cash) }, баллов возвращено { $returned }, кешбэка списано { $reversed }. Клиент уведомлён.
staff-refund-shortfall = Не удалось списать { $points } (клиент их уже потратил).
staff-refund-partial-left = Остаток чека ещё можно вернуть.
staff-refund-usage = Формат: /refund &lt;номер покупки&gt; [сумма], например /refund 125 или /refund 125 1500.
staff-ask-sale-amount = Введите сумму чека продажи без карты.
staff-sale-done = Продажа без карты №{ $operation } записана: { MONEY($amount) }.

## /me

staff-me-head = <b>{ $name }</b>, ваши показатели
staff-me-today = Сегодня
staff-me-month = Этот месяц
staff-me-period = <b>{ $title }</b>
    Покупок: { $purchases }, выручка { MONEY($revenue) }, средний чек { MONEY($average) }
    Списано баллов: { $paid }; начислено: { $accrued }
    Возвратов: { $refunds }; продаж без карты: { $sales }
    Новых клиентов через вас: { $enrolled }
    Оценок: { $ratings }, средняя { $rating }
staff-me-link = Ваша личная ссылка для новых клиентов (они засчитываются вам):
    { $link }

## Кнопки

staff-btn-pay-max = Списать { $points ->
        [one] { $points } балл
        [few] { $points } балла
       *[many] { $points } баллов
    }
staff-btn-pay-other = Другое число
staff-btn-no-points = Без баллов
staff-btn-accrue = Начислить баллы
staff-btn-certificate = Другой сертификат
staff-btn-certificate-option = { $points } · { $percent }% · до { $until }
staff-btn-confirm = ✅ Подтвердить
staff-btn-back = « Назад
staff-btn-cancel = Отмена
staff-btn-refund-full = Вернуть всё, { MONEY($amount) }
staff-btn-refund-partial = Вернуть часть
staff-btn-create-phone = Создать и начислить
staff-btn-invite = ➕ Ссылка-приглашение
staff-btn-revoke = Отозвать: { $name }
staff-btn-rename = Изменить имя

## Ввод суммы

staff-amount-empty = Введите сумму чека, например 12 250.
staff-amount-sign = Сумма пишется без знака: 12 250.
staff-amount-format = Это не сумма. Введите цифры, например 12 250 или 12250,50.
staff-amount-decimals = После запятой — не больше двух цифр (копейки), например 12250,50.
staff-amount-zero = Сумма должна быть больше нуля.
staff-amount-too-large = Это больше максимально допустимого чека. Проверьте сумму.

## Ошибки

staff-error-not-allowed = Это действие вам недоступно.
staff-error-invite-not-found = Ссылка-приглашение недействительна. Попросите у владельца новую.
staff-error-invite-expired = Срок ссылки-приглашения истёк (она действует 24 часа). Попросите у владельца новую.
staff-error-invite-used = По этой ссылке уже присоединились. Попросите у владельца новую.
staff-error-already-staff = Вы уже в команде.
staff-error-cannot-revoke-owner = Владельца отозвать нельзя.
staff-error-quote-not-found = Этого расчёта больше нет. Начните заново.
staff-error-quote-expired = Расчёт устарел. Отсканируйте карту ещё раз.
staff-error-confirmation-expired = Время на подтверждение истекло, ничего не списано.
staff-error-own-account = Нельзя проводить операции по своей собственной карте. Попросите коллегу.
staff-error-code-not-found = Такого кода нет. Попросите клиента открыть карту в боте и проверьте цифры.
staff-error-code-used = Этот код уже использован. Попросите у клиента новый (карта в боте, «Новый код»).
staff-error-code-expired = Срок действия кода истёк. Попросите у клиента новый (карта в боте, «Новый код»).
staff-error-customer-not-found = Клиент не найден.
staff-error-customer-blocked = Карта этого клиента заблокирована.
staff-error-customer-erased = Клиент удалил свои данные.
staff-error-redeem-limit-exceeded = Это больше баллов, чем можно списать по этому чеку.
staff-error-insufficient-funds = У клиента нет столько баллов.
staff-error-redeem-not-authorised = Для оплаты баллами нужен свежий код с карты или подтверждение клиента; сейчас можно только начислить.
staff-error-stale-quote = Баланс изменился, расчёт обновлён.
staff-error-refund-not-allowed = Эта покупка уже полностью возвращена.
staff-error-refund-window-closed = Срок возврата по этой покупке прошёл; теперь вернуть её может только владелец.
staff-error-refund-too-large = Это больше, чем осталось вернуть по этой покупке.
staff-error-certificate-not-applicable = Этот сертификат нельзя применить к этому чеку.
staff-error-not-found = Покупки с таким номером нет.
staff-error-invalid-phone = Это не похоже на номер телефона.
staff-error-already-done = Этот расчёт уже проведён.
