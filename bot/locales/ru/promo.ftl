## Promo codes (issue 18; models/promo.py)

report-cert-promo = промокоды
