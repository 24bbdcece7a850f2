## /api: API keys for cash registers (handlers/owner_api.py)

api-keys-title = <b>Ключи API для касс</b>
api-keys-empty = Ключей пока нет.
api-key-line = • <code>{ $name }</code> — создан { $created }
api-company = companyId: <code>{ $company }</code>
api-usage = Создать ключ: <code>/api create ИМЯ</code> (например, <code>/api create kassa-1</code>). Отозвать: <code>/api revoke ИМЯ</code> или кнопкой ниже.
api-created = Ключ <b>{ $name }</b> создан. Введите в настройках кассы:
    companyId: <code>{ $company }</code>
    apiKey: <code>{ $key }</code>
    Ключ показывается один раз: мы храним только его хеш. Удалите это сообщение после настройки.
api-revoked = Ключ <b>{ $name }</b> отозван: касса с ним больше не сможет работать.
api-not-found = Активного ключа «{ $name }» нет. Список ключей: /api
api-name-taken = Ключ с именем «{ $name }» уже есть. Выберите другое имя или сначала отзовите старый.
api-name-invalid = Имя ключа — от 1 до 64 символов: буквы, цифры, пробел, точка, дефис, подчёркивание.
api-revoke-button = Отозвать { $name }
api-revoke-confirm = Отозвать ключ <b>{ $name }</b>? Касса с этим ключом перестанет проводить покупки.
api-private-only = Ключи API — только в личном чате с ботом: напишите /api мне в личные сообщения.
api-gone = Этого ключа уже нет. Откройте /api заново.
