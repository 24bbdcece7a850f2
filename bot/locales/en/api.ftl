## /api: API keys for cash registers (handlers/owner_api.py)

api-keys-title = <b>API keys for cash registers</b>
api-keys-empty = No keys yet.
api-key-line = • <code>{ $name }</code> — created { $created }
api-company = companyId: <code>{ $company }</code>
api-usage = Create a key: <code>/api create NAME</code> (for example <code>/api create till-1</code>). Revoke: <code>/api revoke NAME</code> or with a button below.
api-created = Key <b>{ $name }</b> created. Enter in the cash register's settings:
    companyId: <code>{ $company }</code>
    apiKey: <code>{ $key }</code>
    The key is shown only once: we keep only its hash. Delete this message once the till is set up.
api-revoked = Key <b>{ $name }</b> revoked: a till using it can no longer work.
api-not-found = There is no active key “{ $name }”. List of keys: /api
api-name-taken = A key named “{ $name }” already exists. Choose another name or revoke the old one first.
api-name-invalid = A key name is 1 to 64 characters: letters, digits, space, dot, hyphen, underscore.
api-revoke-button = Revoke { $name }
api-revoke-confirm = Revoke key <b>{ $name }</b>? A till using it will stop recording purchases.
api-private-only = API keys are managed only in a private chat with the bot: send /api to me directly.
api-gone = This key no longer exists. Open /api again.
