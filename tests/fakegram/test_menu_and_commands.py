"""The bot's menu button (per chat and default) and its command lists per scope, resolved
for each user the way Telegram does, through the real aiogram Bot."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramServerError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeChatAdministrators,
    BotCommandScopeChatMember,
    BotCommandScopeDefault,
    MenuButtonCommands,
    MenuButtonDefault,
    MenuButtonWebApp,
    WebAppInfo,
)

from fakegram import FakeTelegram

CARD = MenuButtonWebApp(text="Карта", web_app=WebAppInfo(url="https://cafe.example/app/card"))
TILL = MenuButtonWebApp(text="Касса", web_app=WebAppInfo(url="https://cafe.example/app/till"))


def names(commands: list[dict[str, object]] | list[BotCommand]) -> list[str]:
    return [str(c["command"] if isinstance(c, dict) else c.command) for c in commands]


@pytest.mark.asyncio
async def test_menu_button_per_chat_and_default(tg: FakeTelegram, bot: Bot) -> None:
    customer, cashier = tg.user(id=10), tg.user(id=20)
    # Nothing set: the menu button opens the command list.
    assert customer.menu_button == {"type": "commands"}
    assert isinstance(await bot.get_chat_menu_button(), MenuButtonCommands)
    assert isinstance(await bot.get_chat_menu_button(chat_id=customer.id), MenuButtonDefault)

    await bot.set_chat_menu_button(menu_button=CARD)  # the default for everyone
    await bot.set_chat_menu_button(chat_id=cashier.id, menu_button=TILL)
    assert customer.menu_button["web_app"] == {"url": "https://cafe.example/app/card"}
    assert cashier.menu_button == {"type": "web_app", "text": "Касса",
                                   "web_app": {"url": "https://cafe.example/app/till"}}
    got = await bot.get_chat_menu_button(chat_id=cashier.id)
    assert isinstance(got, MenuButtonWebApp) and got.text == "Касса"
    # A chat without a button of its own answers "default": the bot's default applies.
    assert isinstance(await bot.get_chat_menu_button(chat_id=customer.id), MenuButtonDefault)
    assert isinstance(await bot.get_chat_menu_button(), MenuButtonWebApp)

    # The cashier is revoked: back to the default button (the card).
    await bot.set_chat_menu_button(chat_id=cashier.id, menu_button=MenuButtonDefault())
    assert cashier.menu_button == customer.menu_button and cashier.id not in tg.menu_buttons
    await bot.set_chat_menu_button(chat_id=cashier.id, menu_button=MenuButtonCommands())
    assert cashier.menu_button == {"type": "commands"}
    await bot.set_chat_menu_button()  # no button: the default default, the command list
    assert customer.menu_button == {"type": "commands"}
    assert [e.data["button"]["type"] for e in tg.events if e.kind == "menu_button"] == [
        "web_app", "web_app", "default", "commands", "default"]


@pytest.mark.asyncio
async def test_menu_button_checks(tg: FakeTelegram, bot: Bot) -> None:
    alice, staff = tg.user(id=10), tg.group(title="Staff")
    insecure = MenuButtonWebApp(text="Карта", web_app=WebAppInfo(url="http://cafe.example/app"))
    with pytest.raises(TelegramBadRequest, match="Only HTTPS links are allowed"):
        await bot.set_chat_menu_button(chat_id=alice.id, menu_button=insecure)
    with pytest.raises(TelegramBadRequest, match="menu button text can't be empty"):
        await bot.set_chat_menu_button(menu_button=MenuButtonWebApp(text="", web_app=CARD.web_app))
    with pytest.raises(TelegramBadRequest, match="invalid chat_id specified"):  # private chats only
        await bot.set_chat_menu_button(chat_id=staff.id, menu_button=CARD)
    with pytest.raises(TelegramBadRequest, match="user not found"):
        await bot.set_chat_menu_button(chat_id=424242, menu_button=CARD)
    with pytest.raises(TelegramBadRequest, match="user not found"):
        await bot.get_chat_menu_button(chat_id=424242)
    assert tg.menu_buttons == {}


@pytest.mark.asyncio
async def test_which_commands_each_user_sees(tg: FakeTelegram, bot: Bot) -> None:
    customer = tg.user(id=10, language_code="ru")
    tourist = tg.user(id=11, language_code="en")
    cashier = tg.user(id=20, language_code="ru")
    owner = tg.user(id=30, language_code="en-US")
    staff = tg.group(title="Staff")
    tg.set_member_status(staff.id, owner.id, "creator")

    assert customer.commands() == []  # nothing set yet
    await bot.set_my_commands([BotCommand(command="help", description="Помощь")])
    await bot.set_my_commands([BotCommand(command="start", description="Начать"),
                               BotCommand(command="card", description="Карта")],
                              scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands([BotCommand(command="start", description="Start"),
                               BotCommand(command="card", description="Card")],
                              scope=BotCommandScopeAllPrivateChats(), language_code="en")
    await bot.set_my_commands([BotCommand(command="sale", description="Продажа"),
                               BotCommand(command="refund", description="Возврат покупки")],
                              scope=BotCommandScopeChat(chat_id=cashier.id))
    await bot.set_my_commands([BotCommand(command="report", description="Report")],
                              scope=BotCommandScopeChat(chat_id=owner.id), language_code="en")
    await bot.set_my_commands([BotCommand(command="stats", description="Итоги дня")],
                              scope=BotCommandScopeAllGroupChats())
    await bot.set_my_commands([BotCommand(command="staff", description="Сотрудники")],
                              scope=BotCommandScopeChatAdministrators(chat_id=staff.id))
    await bot.set_my_commands([BotCommand(command="shift", description="Смена")],
                              scope=BotCommandScopeChatMember(chat_id=staff.id, user_id=cashier.id))

    assert names(customer.commands()) == ["start", "card"]  # all private chats, no "ru" list
    assert [c["description"] for c in tourist.commands()] == ["Start", "Card"]  # in English
    assert names(cashier.commands()) == ["sale", "refund"]  # their own chat scope
    assert names(owner.commands()) == ["report"]  # "en-US" uses the "en" list
    assert names(customer.commands(staff)) == ["stats"]
    assert names(owner.commands(staff)) == ["staff"]  # administrators of this chat
    assert names(cashier.commands(staff)) == ["shift"]  # the member scope beats all others
    scoped = await bot.get_my_commands(scope=BotCommandScopeChat(chat_id=cashier.id))
    assert names(scoped) == ["sale", "refund"]

    # Revoking: deleting (or setting an empty list) falls back to the next scope.
    await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=cashier.id))
    assert names(cashier.commands()) == ["start", "card"]
    await bot.set_my_commands([], scope=BotCommandScopeAllPrivateChats())
    assert names(cashier.commands()) == ["help"] and names(tourist.commands()) == ["start", "card"]
    await bot.set_my_commands([BotCommand(command="audit", description="Журнал")],
                              scope=BotCommandScopeAllChatAdministrators())
    await bot.delete_my_commands(scope=BotCommandScopeChatAdministrators(chat_id=staff.id))
    assert names(owner.commands(staff)) == ["audit"] and names(customer.commands(staff)) == ["stats"]
    await bot.delete_my_commands(scope=BotCommandScopeAllGroupChats())
    assert names(customer.commands(staff)) == ["help"]  # the default scope
    assert names(await bot.get_my_commands(scope=BotCommandScopeDefault())) == ["help"]


@pytest.mark.asyncio
async def test_command_scope_checks(tg: FakeTelegram, bot: Bot) -> None:
    alice, staff = tg.user(id=10), tg.group(title="Staff")
    one = [BotCommand(command="start", description="Start")]
    with pytest.raises(TelegramBadRequest, match="can't use specified scope in private chats"):
        await bot.set_my_commands(one, scope=BotCommandScopeChatAdministrators(chat_id=alice.id))
    with pytest.raises(TelegramBadRequest, match="user not found"):
        await bot.set_my_commands(one, scope=BotCommandScopeChatMember(chat_id=staff.id,
                                                                       user_id=999))
    with pytest.raises(TelegramBadRequest, match="invalid language code"):
        await bot.set_my_commands(one, language_code="russian")
    with pytest.raises(TelegramBadRequest, match="BOT_COMMANDS_TOO_MUCH"):
        await bot.set_my_commands([BotCommand(command=f"c{i}", description="x")
                                   for i in range(101)])
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Sale", description="x")])
    with pytest.raises(TelegramBadRequest, match="description must be non-empty"):
        await bot.set_my_commands([BotCommand(command="sale", description="  ")])
    await bot.set_my_commands([BotCommand(command="/sale ", description=" Продажа ")])
    assert (await bot.get_my_commands())[0].model_dump(exclude_none=True) == {
        "command": "sale", "description": "Продажа"}  # trimmed like Telegram does


@pytest.mark.asyncio
async def test_a_chat_scope_needs_a_chat_the_bot_has_seen(tg: FakeTelegram, bot: Bot) -> None:
    """BotCommandScopeChat for a private chat: like Telegram, only for a user the bot knows (they
    opened the bot, or wrote in a group it reads); anyone else is 400 "chat not found", for
    setMyCommands, getMyCommands and deleteMyCommands alike. The call is recorded under the
    scope's chat, so `tg.calls(chat_id=...)`, `fail_next` and `slow` can aim at it."""
    one = [BotCommand(command="sale", description="Продажа без карты")]
    stranger = tg.user(id=40, started=False)  # never opened the bot
    for call in (lambda: bot.set_my_commands(one, scope=BotCommandScopeChat(chat_id=stranger.id)),
                 lambda: bot.get_my_commands(scope=BotCommandScopeChat(chat_id=stranger.id)),
                 lambda: bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=stranger.id),
                                                language_code="en"),
                 lambda: bot.set_my_commands(one, scope=BotCommandScopeChat(chat_id=123_456_789))):
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await call()
    assert tg.commands == {}

    group = tg.group(title="Staff")
    await group.send(stranger, "привет")  # now the bot has seen them
    await bot.set_my_commands(one, scope=BotCommandScopeChat(chat_id=stranger.id), language_code="ru")
    assert names(stranger.commands()) == ["sale"]
    await stranger.start()
    await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=stranger.id), language_code="ru")
    assert stranger.commands() == []

    calls = tg.calls("setMyCommands", chat_id=stranger.id)
    assert [c.status for c in calls] == [400, 200]
    tg.fail_next("setMyCommands", status=500, chat_id=stranger.id)
    with pytest.raises(TelegramServerError):
        await bot.set_my_commands(one, scope=BotCommandScopeChat(chat_id=stranger.id))
    await bot.set_my_commands(one)  # other scopes are not hit by the rule
