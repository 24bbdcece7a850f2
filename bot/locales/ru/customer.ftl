## The customer's side of the bot (handlers/common.py, handlers/customer*.py,
## handlers/fallback.py). HTML parse mode: names are escaped by the handlers.

## Command menu (bot/runner.py set_commands)

cmd-start = Начать / главное меню
cmd-card = Моя карта
cmd-balance = Баланс и история
cmd-certificates = Сертификаты
cmd-promo = Ввести промокод
cmd-invite = Пригласить друзей
cmd-review = Оценить визит / оставить отзыв
cmd-settings = Настройки
cmd-help = Помощь
cmd-cancel = Отменить текущее действие

## Commands that work everywhere (handlers/common.py)

common-nothing-to-cancel = Нечего отменять.
common-start-hint = Чтобы стать участником программы, нажмите /start.
common-help =
    Это бот программы лояльности.
    • «Моя карта» — QR-код и код для кассира
    • «Баланс и история» — баллы и операции
    • «Сертификаты» — ваши подарочные сертификаты
    • «Пригласить друзей» — ссылка и бонусы за друзей
    • «Оценить визит» — оценка и отзыв за баллы
    • «Настройки» — язык, день рождения, удаление данных
    /cancel — отменить текущее действие, /menu — показать меню.
common-help-guest = Это бот программы лояльности. Нажмите /start, чтобы зарегистрироваться и получить приветственные баллы. /cancel отменяет текущее действие.
common-help-staff = Для сотрудников: отправьте код клиента, фото его QR-кода или номер телефона, чтобы провести покупку. /sale — продажа без карты, /refund — возврат покупки, /me — ваши показатели, /card — ваша собственная карта участника (/join — стать участником).
common-help-owner = Для владельца: /owner — меню владельца, /program — программа, /campaigns — кампании и источники, /promocodes — промокоды, /broadcast — рассылка, /report — отчёт, /staff — сотрудники, /import и /export — база клиентов, /find — поиск клиента, /audit — журнал, /api — ключи для кассы.
common-choose-language = Выберите язык / Choose your language:
common-language-set = Язык: русский.

## Main menu (bot/keyboards.py)

menu-card = 💳 Моя карта
menu-balance = 💰 Баланс и история
menu-certificates = 🎁 Сертификаты
menu-invite = 👥 Пригласить друзей
menu-review = ⭐ Оценить визит
menu-settings = ⚙️ Настройки
menu-prompt = Выберите раздел в меню ниже.

## /start and deep links

start-member = С возвращением, { $name }!
start-foreign-card = Это карта лояльности другого человека. Если хотите свою — зарегистрируйтесь в программе.
start-referral-member = Вы уже участник программы: приглашение действует только для новых гостей.
start-campaign-granted = 🎁 Сертификат по акции начислен! Он уже в разделе «Сертификаты».
start-campaign-already = Вы уже получали сертификат по этой акции.
start-campaign-unavailable = Эта акция закончилась или сертификаты по ней разобрали.

## Registration

reg-welcome = Добро пожаловать в программу лояльности «{ $business }»!
reg-welcome-points = За регистрацию — { points }.
reg-consent = Чтобы продолжить, подтвердите согласие на обработку персональных данных (<a href="{ $url }">политика конфиденциальности</a>).
reg-consent-no-policy = Чтобы продолжить, подтвердите согласие на обработку персональных данных (номер телефона, имя, дата рождения).
reg-button-agree = ✅ Согласен
reg-consent-expected = Чтобы продолжить, нажмите «Согласен» под сообщением выше. /cancel — отменить.
reg-start-again = Эта кнопка устарела. Нажмите /start, чтобы начать заново.
reg-already-member = Вы уже участник программы.
reg-ask-phone = Поделитесь номером телефона кнопкой ниже — так кассир найдёт вас по номеру.
reg-button-share-phone = 📱 Поделиться номером
reg-phone-expected = Нажмите кнопку «📱 Поделиться номером» внизу экрана. Вводить номер вручную не нужно.
reg-phone-not-own = Это не ваш контакт. Мы принимаем только ваш собственный номер — нажмите кнопку «📱 Поделиться номером».
reg-phone-invalid = Не удалось распознать номер телефона. Попробуйте ещё раз кнопкой ниже.
reg-ask-name = Как к вам обращаться? Сейчас: <b>{ $name }</b>. Нажмите «Оставить», или напишите другое имя.
reg-button-keep-name = Оставить
reg-name-placeholder = Ваше имя
reg-name-invalid = Имя должно содержать буквы и быть не длиннее { $max } символов. Напишите имя или нажмите «Оставить».
reg-name-expected = Напишите имя текстом или нажмите «Оставить».
reg-ask-birthday = Когда у вас день рождения? Напишите дату в формате ДД.ММ.ГГГГ, например 31.12.1990 — в день рождения пришлём подарок. Или нажмите «Пропустить».
reg-button-skip-birthday = Пропустить
reg-birthday-format = Не понял дату. Напишите её в формате ДД.ММ.ГГГГ, например 31.12.1990, или нажмите «Пропустить».
reg-birthday-future = Эта дата ещё не наступила. Проверьте год и напишите дату ещё раз.
reg-birthday-too-old = Похоже, в годе опечатка: больше 120 лет. Напишите дату ещё раз.
reg-done = 🎉 Готово, { $name }! Вы участник программы.
reg-done-welcome = Приветственный бонус: +{ points }.
reg-done-campaign = Сертификат по акции: +{ points }.
reg-done-joined = Мы нашли ваши прежние покупки по номеру телефона: баланс и история сохранены.
reg-phone-taken = Этот номер уже привязан к другому аккаунту Telegram. Обратитесь к администратору заведения.

## The card

card-refreshed = Новый код готов.

## Balance and history

history-balance = Баланс: <b>{ points }</b>
history-pending = Ожидают начисления: { points }
history-certificates = На сертификатах: { points }
history-next-expiry = Ближайшее сгорание: { points } — { $date }
history-empty = Операций пока нет.
# $sign is "+" or "−", $points a whole number.
history-line = { $date } · { $what } · { $sign }{ $points }
history-line-paid-and-earned = { $date } · { $what } · −{ $spent } баллами, +{ $earned } кешбэк
history-check = (чек { $amount })
history-until = до { $date }
history-page = Страница { $page } из { $pages }
history-newer = « Новее
history-older = Старее »
history-kind-purchase = Покупка
history-kind-referral = Бонус за друга
history-kind-refund = Возврат
history-kind-referral-refund = Возврат покупки друга
history-kind-welcome = Приветственный бонус
history-kind-review = Отзыв
history-kind-certificate = Сертификат
history-kind-reward = Бонус
history-kind-manual = Корректировка
history-kind-import = Перенос баланса
history-kind-expiry = Сгорание баллов
history-kind-certificate-expiry = Сертификат не использован — срок истёк
history-kind-erase = Удаление данных

## Certificates

certificates-none = У вас пока нет действующих сертификатов.
certificates-title = <b>Ваши сертификаты</b>
certificates-line = { $kind ->
    [birthday] 🎂 День рождения
    [winback] 👋 Возвращение
    [campaign] 🎁 Акция
   *[other] 🎁 Подарок
}: { points } · до { $cap }% чека · действует до { $date }

## Invite friends

invite-title = <b>Приглашайте друзей в «{ $business }»</b>
invite-terms = Вы получаете { $percents } от их покупок (по уровням приглашений).
invite-first-purchase = И ещё { points } за первую покупку друга.
invite-link = Ваша ссылка: { $link }
invite-level = Уровень { $level }: приглашено { $invited }, купили { $bought }, вам начислено { points }
invite-button-share = 📤 Поделиться ссылкой
invite-share-text = { $points ->
    [0] Присоединяйся к программе лояльности «{ $business }»!
   *[other] Присоединяйся к программе лояльности «{ $business }» — { $points } приветственных баллов за регистрацию!
}

## Ratings and reviews

review-menu = Оцените последний визит или оставьте отзыв — за отзыв начислим баллы.
review-button-rate = ⭐ Оценить последний визит
review-site-button = Отзыв на { $site } (+{ $points })
review-menu-no-visit = Оценить визит можно будет после покупки. А за отзыв начислим баллы:
review-your-rating = Ваша оценка: { $stars }
review-ask-what-went-wrong = Жаль, что визит не понравился. Что пошло не так? Напишите пару слов — передадим администратору. /cancel — пропустить.
review-comment-thanks = Спасибо, передали администратору. Постараемся исправиться.
review-nothing = Пока нечего оценить: оценка появится после покупки.
review-rate-prompt = Как вам визит { $date }? Поставьте оценку от 1 до 5.
review-thanks = Спасибо за оценку!
review-already-rated = Этот визит уже оценён.
review-not-yours = Эта покупка не найдена.
review-open-site = Оставьте отзыв на { $site } по кнопке ниже, затем пришлите сюда скриншот отзыва. За одобренный отзыв — { points }.
review-button-open = Открыть { $site }
review-send-screenshot = Пришлите скриншот отзыва фотографией. /cancel — отменить.
review-already-rewarded = За отзыв на { $site } вы уже получили баллы.
review-already-pending = Ваш отзыв на { $site } уже на проверке.
review-submitted = Спасибо! Скриншот отправлен на проверку, о решении сообщим.
review-site-unknown = Этот сайт больше не участвует в программе отзывов.
review-button-approve = ✅ Одобрить
review-button-reject = ❌ Отклонить
review-decided-approve = ✅ Одобрено: { $staff }
review-decided-reject = ❌ Отклонено: { $staff }
review-already-decided = По этому отзыву уже принято решение.
review-approved-answer = Одобрено, баллы начислены.
review-approved-no-points = Одобрено. Баллы за этот сайт гость уже получал — повторно не начислены.
review-rejected-answer = Отклонено.

## Settings

settings-title = <b>Настройки</b>
settings-button-language = 🌐 Язык / Language
settings-button-birthday = 🎂 Указать день рождения
settings-broadcasts-on = Рассылки с акциями и новостями: получаете. Сообщения о ваших баллах и покупках приходят всегда.
settings-broadcasts-off = Рассылки с акциями и новостями: отключены. Сообщения о ваших баллах и покупках приходят всегда.
settings-button-broadcasts-off = 🔕 Не присылать акции и новости
settings-button-broadcasts-on = 🔔 Присылать акции и новости
settings-broadcasts-saved-off = Готово: акции и новости больше не придут.
settings-broadcasts-saved-on = Готово: будем присылать акции и новости.
settings-button-erase = 🗑 Удалить мои данные
settings-birthday-set = День рождения: { $date }. Изменить его может только администратор.
settings-ask-birthday = Напишите дату рождения в формате ДД.ММ.ГГГГ, например 31.12.1990. /cancel — отменить.
settings-birthday-saved = Сохранено: { $date }. В день рождения ждите подарок!
settings-birthday-already = День рождения уже указан. Изменить его может только администратор.
settings-erase-confirm = Удалить ваши данные? Имя, телефон и дата рождения будут удалены, { points } сгорят, карта перестанет работать. Это нельзя отменить.
settings-button-erase-yes = Да, удалить
settings-button-erase-no = Нет, оставить
settings-erased = Ваши данные удалены. Спасибо, что были с нами! Чтобы вернуться, нажмите /start.
settings-erase-kept = Хорошо, ничего не удаляем.

## Fallback (handlers/fallback.py)

fallback-unknown-command = Я не знаю такой команды. Меню — /menu, помощь — /help.
fallback-text = Не понял сообщение. Выберите раздел в меню ниже или нажмите /help.
fallback-text-guest = Чтобы стать участником программы лояльности, нажмите /start.
fallback-media = Я понимаю только кнопки меню и текст. Выберите раздел в меню ниже.
fallback-stale-button = Эта кнопка больше не действует.
