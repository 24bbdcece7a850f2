"""The loyalty domain: tables and rules. Framework-free: no aiogram imports here."""
