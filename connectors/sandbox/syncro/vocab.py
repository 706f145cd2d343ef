"""Syncro vocabulary: ticket statuses, priorities, types, the runbook's labor products, the
hardware catalogue and the texts the generator draws from."""

from __future__ import annotations

STATUSES = [
    "New",
    "In Progress",
    "Waiting on Customer",
    "Waiting on Vendor",
    "Waiting for Parts",
    "Scheduled",
    "Customer Reply",
    "Resolved",
    "Invoiced",
    "Closed",
]


CLOSED_STATUSES = ("Resolved", "Closed")  # what the "Not Closed" filter value excludes


PRIORITIES = ["Urgent", "High", "Normal", "Low"]


TICKET_TYPES = [
    (41001, "Remote Support"),
    (41002, "Onsite Service"),
    (41003, "Network"),
    (41004, "Email / Microsoft 365"),
    (41005, "Hardware"),
    (41006, "Security"),
    (41007, "Project"),
]


# Labor products of the seed runbook (seeds/001 "Labor product IDs"), with the labor-type keys
# its `--labor` flag uses. Rates are the sandbox's (the runbook says do not hard-code them).
LABOR_PRODUCTS = [
    (1190473, "remote", "Labor - Remote Business", "125.0"),
    (26118, "onsite", "Labor - Onsite Business", "150.0"),
    (26184, "emergency", "Labor - Emergency or After Hours Business", "225.0"),
    (9269129, "project", "Labor - Prepaid Project Labor", "0.0"),
    (9269124, "internal", "Labor - Internal Labor", "0.0"),
    (26117, "travel", "Fee - Travel Time", "75.0"),
    (68055, "website", "Labor - Website Labor", "110.0"),
]


LABOR_PRODUCT_IDS = {key: pid for pid, key, _name, _rate in LABOR_PRODUCTS}


DEFAULT_LABOR_PRODUCT_ID = 1190473


HARDWARE = [
    ("Dell Latitude 5450 Laptop", "Hardware", "1249.0", "1049.0"),
    ("Samsung 990 PRO 1TB SSD", "Hardware", "149.0", "99.0"),
    ("Ubiquiti UniFi U6 Pro Access Point", "Network", "189.0", "149.0"),
    ("Cisco Meraki MX68 Firewall", "Network", "895.0", "705.0"),
    ("APC Back-UPS Pro 1500VA", "Hardware", "279.0", "215.0"),
    ("Microsoft 365 Business Premium (monthly)", "Software", "22.0", "22.0"),
    ("Veeam Backup License (annual)", "Software", "340.0", "280.0"),
    ("HP LaserJet Toner 58A", "Supplies", "129.0", "89.0"),
    ("Logitech MK540 Keyboard/Mouse", "Hardware", "49.0", "32.0"),
    ("CAT6 Patch Cable 7ft", "Supplies", "6.0", "2.5"),
    ("SentinelOne Endpoint (monthly)", "Software", "9.0", "6.0"),
    ("Dell 27in Monitor P2725H", "Hardware", "299.0", "239.0"),
]


SUBJECTS = [
    "Outlook keeps asking for password",
    "Printer offline on 2nd floor",
    "New laptop setup for {name}",
    "Server backup failed overnight",
    "VPN not connecting from home",
    "Replace failing SSD in front desk PC",
    "Phishing email reported by {name}",
    "Add Microsoft 365 license for new hire",
    "Firewall firmware update",
    "Wi-Fi dead zone in warehouse",
    "QuickBooks won't open after update",
    "Shared drive mapping missing",
    "Onboard new employee {name}",
    "Offboard {name} - disable accounts",
    "Slow computer in conference room",
    "Website SSL certificate expiring",
    "Scanner to email stopped working",
    "MFA reset for {name}",
    "Replace UPS battery in server closet",
    "Ransomware alert from endpoint protection",
    "Teams calls dropping",
    "Set up new network switch",
    "Domain renewal for {company}",
    "Migrate mailbox to Exchange Online",
]


PROBLEM_TYPES = [
    "Remote Support",
    "Onsite",
    "Network",
    "Email",
    "Hardware",
    "Software",
    "Security",
    "Backup",
    "Printer",
    "Project",
]


COMMENT_SUBJECTS = [
    "Initial Issue",
    "Update",
    "Resolution",
    "Internal Note",
    "Customer Reply",
    "Scheduled",
]


COMMENT_BODIES = [
    "Remoted in and cleared cached credentials; user confirmed Outlook is working.",
    "Called {name}, left voicemail. Will try again this afternoon.",
    "Replaced the toner and ran a test page. Printer back online.",
    "Backup job failed with VSS error 0x800423F4; restarted the writer and re-ran successfully.",
    "Ordered replacement part, waiting for delivery.",
    "Updated firmware to latest stable release, rebooted after hours.",
    "Reset MFA and walked the user through re-enrolling the authenticator app.",
    "Issue resolved, closing ticket. Please reply if it comes back.",
    "Customer reports the problem happens every morning around 9am.",
    "Escalated to vendor support, case number {num}.",
    "Onsite visit scheduled for {day}.",
    "Mapped the shared drive via GPO and verified on two workstations.",
]


UNIT_TEXT = "Labor"


OPEN_STATUSES = [
    "New",
    "In Progress",
    "Waiting on Customer",
    "Waiting on Vendor",
    "Waiting for Parts",
    "Scheduled",
    "Customer Reply",
]
