## Reports (models/reports.py, models/rfm.py, bot/report_render.py).
## Every figure has a name (the message) and a one-line definition (.def).
## Values arrive already formatted as strings.

report-title = 📊 Report for { $from } – { $to }
report-title-scope = 📊 Report for { $from } – { $to } ({ $scope })
report-line = { $name }: { $value }
report-definition = { $text }
report-dash = —
report-share = { $value } ({ $share })
report-of-which = { $value }, of whom { $bought } bought
report-generations = { $n ->
    [one] { $n } generation
   *[other] { $n } generations
}
report-rating-value = { $count } (average { $average })
report-card-vs-no-card-value = { $card } vs { $plain } ({ $uplift })
report-concentration-value = { $share } of revenue
report-section-figures = Figures
report-section-benefit = Economic benefit
report-section-sources = By source
report-section-staff = Staff
report-section-campaigns = Campaigns and sources
report-section-rfm = RFM segments
report-section-promos = Promo codes
report-promo-line = { $code }: { $uses } uses, { $points } given
report-staff-line = { $name }: { $purchases } card purchases, { $sales } without a card, revenue { $revenue }, avg card check { $average }, paid with points { $points }, enrolled { $enrolled }, rating { $rating }
report-campaign-line = { $name }: opened { $opened } → registered { $registered } → certificates { $certificates } → bought { $buyers }, { $revenue }, cost { $cost }
report-source-line = { $name }: customers { $customers }, bought { $buyers }, revenue { $revenue }
report-rfm-line = { $name }: { $customers }, revenue { $revenue }
report-no-data = No data for this period.

report-customers = Customers in CRM
    .def = Every customer in the base at the end of the period (created before its end and not erased).
report-new-customers = New customers
    .def = Customers who joined the base within the period.
report-digitised = Digitised (card in Telegram)
    .def = Customers linked to Telegram at the end of the period, and their share of customers in CRM.
report-buyers = Made purchases
    .def = Customers with at least one card purchase in the period (fully refunded ones do not count), share of customers in CRM.
report-purchases = Purchases with the card
    .def = Card purchases in the period, except fully refunded ones.
report-revenue = Card revenue
    .def = Sum of card checks (money and points together) net of refunds.
report-average-check = Average check
    .def = Card revenue / number of card purchases.
report-purchases-per-buyer = Purchases per buyer
    .def = Card purchases / number of buyers.
report-points-paid = Paid with points
    .def = Points that paid for purchases, in roubles, less what refunds gave back.
report-actual-discount = Actual discount
    .def = Paid with points / card revenue.
report-referred = New customers by referral
    .def = Customers who joined in the period through a referral link, and how many of them bought.
report-referral-depth = Referral depth
    .def = The longest referral chain in generations: a customer's friend is generation 1, their friend generation 2.
report-referred-revenue = Revenue from referred customers
    .def = Revenue in the period from customers who came through a referral.
report-certificate-revenue = Revenue from certificate purchases
    .def = Revenue of purchases paid partly with a certificate.
report-certificates = Certificates issued
    .def = Certificates issued in the period: birthday, win-back, campaigns, by the owner.
report-ratings = Quality ratings received
    .def = Visit ratings (1–5) received in the period and their average.
report-saving = Saved by not giving a direct discount
    .def = Baseline direct discount ({ $percent }%) × card revenue − paid with points.
report-brought-revenue = Revenue from customers the platform brought
    .def = Revenue in the period from customers who came through campaign and source links (not referral, walk-in or import).
report-total-benefit = Total economic benefit
    .def = Saved by not giving a direct discount + revenue from referred + revenue from brought customers.
report-benefit-none = no purchases in the period: nothing to measure
report-benefit-negative = none: points paid { $amount } more than a direct discount would have cost
report-saving-negative = none: points paid { $amount } more than a direct discount would have cost
report-card-vs-no-card = Average check: card vs no card
    .def = Average card check against the average check of sales recorded without a card in the same period, difference in percent.
report-return-rate = Came back for a repeat purchase
    .def = Share of the period's buyers with two or more purchases.
report-frequent = Made more than 4 purchases
    .def = Share of customers in CRM with more than four purchases in the period.
report-top20 = Top 20% of buyers bring
    .def = Share of revenue from the fifth of buyers with the highest revenue.
report-buyers-60 = 60% of revenue comes from
    .def = The smallest share of buyers (biggest spenders first) that makes 60% of revenue.
report-no-card-sales = Sales without a card
    .def = Sales staff recorded without a customer card, and their total.

report-source-referral = Referral
report-source-campaign = Campaigns
report-source-source = Source links
report-source-staff = Staff
report-source-import = Import
report-source-walk_in = Walk-in

report-cert-birthday = birthday
report-cert-winback = win-back
report-cert-campaign = campaigns
report-cert-owner = by the owner

rfm-champions = Champions
    .def = Bought recently and often (R 4–5, F 4–5).
rfm-loyal = Loyal
    .def = Regular customers (R 3–5, F 3–5).
rfm-new = New
    .def = First purchase recently (R 4–5, F 1).
rfm-potential = Potential
    .def = Bought recently, not yet regular (R 3–5, F 1–2).
rfm-cant_lose = Can't lose them
    .def = Were the best customers, gone quiet (R 1–2, F 4–5, M 4–5).
rfm-at_risk = At risk
    .def = Were regular, gone quiet (R 1–2, F 3–5).
rfm-hibernating = Hibernating
    .def = Bought once or twice a while ago (R 2, F 1–2).
rfm-lost = Lost
    .def = Bought once or twice long ago (R 1, F 1–2).
rfm-none = Not buyers yet

chart-revenue-title = Revenue by month
chart-revenue-card = With the card
chart-revenue-no-card = Without a card
chart-revenue-axis = Revenue, ₽
chart-new-title = New customers by source
chart-new-axis = Customers
chart-rfm-title = RFM: recency × frequency (customers)
chart-rfm-r = R — recency (5 = recent)
chart-rfm-f = F — frequency (5 = often)
chart-referral-title = Referral depth
chart-referral-axis = Customers
chart-referral-generation = Generation
chart-funnel-title = Campaign funnels
chart-funnel-opened = Opened the link
chart-funnel-registered = Registered
chart-funnel-certificates = Certificates
chart-funnel-bought = Bought

xlsx-summary = Summary
xlsx-sources = Sources
xlsx-staff = Staff
xlsx-campaigns = Campaigns
xlsx-monthly = By month
xlsx-rfm = RFM
xlsx-movement = RFM movement
xlsx-referrals = Referrals
xlsx-certificates = Certificates
xlsx-figure = Figure
xlsx-value = Value
xlsx-definition = Definition
xlsx-name = Name
xlsx-code = Code
xlsx-month = Month
xlsx-customers = Customers
xlsx-count = Count
xlsx-points = Points
xlsx-revenue = Revenue, ₽
xlsx-average-check = Average check, ₽
xlsx-points-paid = Paid with points, ₽
xlsx-operations = Operations
xlsx-purchases = Card purchases
xlsx-no-card = Sales without a card
xlsx-no-card-revenue = Revenue without a card, ₽
xlsx-enrolled = Enrolled
xlsx-ratings = Ratings
xlsx-average-rating = Average rating
xlsx-segment = Segment
xlsx-before = Before
xlsx-after = Now
xlsx-generation = Generation
xlsx-kind = Kind
xlsx-opened = Opened the link
xlsx-registered = Registered
xlsx-certificates-issued = Certificates
xlsx-buyers = Bought
xlsx-cost = Cost, points
xlsx-digitised = Digitised
xlsx-new = New

# The scheduler's monthly message to the owners (models.reports.monthly_report_payload).
report-monthly = 📊 Results for { $month }
    Customers in CRM: { $customers } ({ $new } new), { $digitised }% digitised
    Bought: { $buyers }, card purchases: { $purchases }
    Card revenue: { MONEY($revenue) }, average check { MONEY($average) }
    Actual discount: { $discount }%
    Total economic benefit: { $benefit_state ->
        [none] no purchases this month
        [negative] none: points paid more than a direct discount would have cost
       *[positive] { MONEY($benefit) }
    }
    RFM: { $champions } champions, { $at_risk } at risk or can't lose
    The full report with charts and a spreadsheet: /report

## /report in the bot
report-choose-period = Which period should the report cover?
report-period-month = This month
report-period-last-month = Last month
report-period-year = This year
report-period-last-year = Last year
report-period-all = All time
report-period-custom = Custom dates
report-custom-prompt = Send the period as “01.03.2026 - 31.03.2026”.
report-custom-bad = I could not read that period. Example: “01.03.2026 - 31.03.2026” — the first day, then the last.
report-working = Working out the report…
report-xlsx-caption = Every table of the report, in Excel.

## Charts and the workbook: axis labels and typed rows (issue 16, bot/report_render.py).
chart-month-axis = Month
chart-rfm-scale = Customers in the cell
chart-funnel-axis = Count (people or certificates)
chart-funnel-campaign = Campaign or source
xlsx-period-from = Period: from
xlsx-period-to = Period: to
xlsx-scope = Cohort
xlsx-share-of = { $name }: share of customers in CRM
xlsx-referred-bought = Of those referred, bought
xlsx-certificates-of-kind = Certificates: { $kind }
xlsx-average-card = Average check with the card
xlsx-average-no-card = Average check without a card
xlsx-no-card-total = Total of sales without a card
xlsx-with-card = With the card in Telegram
xlsx-card-revenue = Card revenue, ₽
xlsx-new-from = New: { $source }
xlsx-rfm-grid = F (frequency) \ R (recency)
