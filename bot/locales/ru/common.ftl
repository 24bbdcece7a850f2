## Messages every part of the bot uses. Owned by the i18n layer (bot/i18n.py).
## Numbers are printed with grouping ("12 250"); money via MONEY($kopecks) or
## bot.i18n.format_money.

# A number of points with the right Russian plural: 1 балл, 2 балла, 5 баллов.
points = { $n ->
    [one] { $n } балл
    [few] { $n } балла
   *[many] { $n } баллов
}

## Errors and generic replies

error-generic = Что-то пошло не так. Попробуйте ещё раз чуть позже.
error-try-again-later = Сервис временно недоступен. Попробуйте через несколько минут.
cancelled = Отменено.
done = Готово.
unknown-command = Я не знаю такой команды. Откройте меню командой /start.
use-buttons = Пожалуйста, выберите вариант кнопками ниже.
not-allowed = Это действие вам недоступно.

## Buttons

# "да"/"нет" inside a sentence (a setting's value, a card's field); the buttons are capitalised.
word-yes = да
word-no = нет
button-yes = Да
button-no = Нет
button-back = « Назад
button-cancel = Отмена
button-confirm = Подтвердить
button-decline = Отклонить

## Reading a QR code from a photo (bot/qr.py)

qr-not-an-image = Это не похоже на изображение. Пришлите фото QR-кода или введите 6 цифр кода.
qr-too-large = Изображение слишком большое. Пришлите обычное фото QR-кода.
qr-not-found = Не удалось найти QR-код на фото. Снимите поближе и ровнее или введите 6 цифр кода.
qr-foreign = Это не карта нашей программы лояльности. Попросите гостя открыть карту в боте.
