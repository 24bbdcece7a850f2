## Each role's menu (issue 16, "Roles"): the command lists of staff and owners
## (bot/role_commands.py), the till's keyboard (bot/keyboards.py staff_menu), the screens of
## /start for staff and owners (handlers/staff.py). HTML parse mode.
## Words: "customer" is the person at the till, "member" a registered member of the program,
## "staff member", "purchase", "sale without a card", "refund", "figures".

## Command lists of staff and owners (cmd-start, cmd-card, cmd-help, cmd-cancel: customer.ftl)

cmd-sale = Sale without a card
cmd-refund = Refund a purchase
cmd-me = My figures
cmd-owner = Owner menu
cmd-report = Report
cmd-staff = Staff and invites
cmd-program = Loyalty program
cmd-campaigns = Campaigns and sources
cmd-promocodes = Promo codes
cmd-broadcast = New broadcast
cmd-broadcasts = Broadcast history
cmd-find = Find a customer
cmd-import = Import customers
cmd-export = Export customers and operations
cmd-audit = Action log
cmd-api = Cash register keys

## The till's keyboard (each key does what its command does)

staff-key-find = 🔍 Find a customer
staff-key-sale = 🧾 Sale without a card
staff-key-refund = ↩️ Refund a purchase
staff-key-me = 📊 My figures
owner-key-menu = 🛠 Owner menu
owner-key-report = 📈 Report

## Screens

# The three ways to find a customer: after joining, on /start, on "Find a customer".
staff-find-ways =
    To find a customer, any of three ways:
    1. Point your phone camera at the QR code of their card in the bot (or send me a photo of it).
    2. Type the 6-digit code from their card, for example 123 456.
    3. Type their phone number, for example 8 916 123-45-67.
    Then type the check amount.
staff-keys-hint = The buttons below: sale without a card, refund a purchase, your figures and your own member card.
staff-name-is = Customers and reports see you as <b>{ $name }</b>.
staff-home = Hello, <b>{ $name }</b>! You are on the staff: the till is ready.
staff-home-own-card = Purchases on your own member card are recorded by a colleague.
staff-home-join = You have no member card of your own. To collect points as a customer, press /join.
staff-no-own-card = You have no member card of your own yet. To collect points as a customer, press /join.
owner-home = Hello, <b>{ $name }</b>! You are the owner: the owner menu is below, the till buttons are at the bottom of the screen.
staff-not-understood = I didn't understand that.
staff-sale-phone = That is a phone number, not an amount: looking the customer up by the number.
staff-ask-refund-number = Type the purchase number from the receipt, for example 125. For a partial refund, the number and the amount: 125 1500.
staff-refund-number-bad = That is not a purchase number. Type the number from the receipt, for example 125, or the number and the amount: 125 1500.

## The owner is told when a staff member joins (through the outbox)

staff-joined = 🆕 <b>{ $name }</b> joined the staff with your invite link. Everyone on the staff: /staff.

## The owner's menu: the tools /owner did not reach

owner-menu-report = Report
owner-menu-staff = Staff
owner-menu-api = Cash register keys
