## Each role's menu (issue 16, "Roles"): the command lists of staff and owners
## (bot/role_commands.py), the till's keyboard (bot/keyboards.py staff_menu), the screens of
## /start for staff and owners (handlers/staff.py). HTML parse mode.
## Words: «клиент» is the person at the till, «участник» a registered member of the program,
## «сотрудник» a member of the staff, «покупка», «продажа без карты», «возврат», «показатели».

## Command lists of staff and owners (cmd-start, cmd-card, cmd-help, cmd-cancel: customer.ftl)

cmd-sale = Продажа без карты
cmd-refund = Возврат покупки
cmd-me = Мои показатели
cmd-owner = Меню владельца
cmd-report = Отчёт
cmd-staff = Сотрудники и приглашения
cmd-program = Программа лояльности
cmd-campaigns = Кампании и источники
cmd-promocodes = Промокоды
cmd-broadcast = Новая рассылка
cmd-broadcasts = История рассылок
cmd-find = Найти клиента
cmd-import = Импорт клиентов
cmd-export = Экспорт клиентов и операций
cmd-audit = Журнал действий
cmd-api = Ключи для кассы

## The till's keyboard (each key does what its command does)

staff-key-find = 🔍 Найти клиента
staff-key-sale = 🧾 Продажа без карты
staff-key-refund = ↩️ Возврат покупки
staff-key-me = 📊 Мои показатели
owner-key-menu = 🛠 Меню владельца
owner-key-report = 📈 Отчёт

## Screens

# The three ways to find a customer: after joining, on /start, on "Найти клиента".
staff-find-ways =
    Как найти клиента — любой из трёх способов:
    1. Наведите камеру телефона на QR-код его карты в боте (или пришлите мне фото QR-кода).
    2. Введите 6-значный код с его карты, например 123 456.
    3. Введите его номер телефона, например 8 916 123-45-67.
    Затем введите сумму чека.
staff-keys-hint = Кнопки внизу: продажа без карты, возврат покупки, ваши показатели и ваша собственная карта участника.
staff-name-is = Клиенты и отчёты видят вас как <b>{ $name }</b>.
staff-home = Здравствуйте, <b>{ $name }</b>! Вы сотрудник — касса готова.
staff-home-own-card = Покупки по вашей собственной карте участника проводит коллега.
staff-home-join = Своей карты участника у вас нет. Чтобы копить баллы как клиент, нажмите /join.
staff-no-own-card = У вас пока нет своей карты участника. Чтобы копить баллы как клиент, нажмите /join.
owner-home = Здравствуйте, <b>{ $name }</b>! Вы владелец: меню владельца — ниже, кнопки кассы — внизу экрана.
staff-not-understood = Не понял сообщение.
staff-sale-phone = Это номер телефона, а не сумма: ищу клиента по номеру.
staff-ask-refund-number = Введите номер покупки из чека, например 125. Для частичного возврата — номер и сумму: 125 1500.
staff-refund-number-bad = Это не номер покупки. Введите номер из чека, например 125, или номер и сумму: 125 1500.

## The owner is told when a staff member joins (through the outbox)

staff-joined = 🆕 По вашей ссылке-приглашению в команду вошёл сотрудник <b>{ $name }</b>. Все сотрудники — /staff.

## The owner's menu: the tools /owner did not reach

owner-menu-report = Отчёт
owner-menu-staff = Сотрудники
owner-menu-api = Ключи для кассы
