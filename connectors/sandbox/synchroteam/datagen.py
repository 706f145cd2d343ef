"""Synchroteam data: the generator (one function per resource) and churn."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.sandbox import accounts
from connectors.sandbox.datagen import Gen

from .datagen_jobs import generate_jobs
from .datagen_stock import generate_stock
from .records import (
    ADDRESS_KEYS,
    EQUIPMENT,
    FIRST_IDS,
    PARTS,
    TAX,
    K,
    custom_values,
    st_date,
)

if TYPE_CHECKING:
    from .emulator import SynchroteamSandbox


def _addr(gen: Gen) -> dict[str, Any]:
    f = gen.fake
    street, city, state, zip_code = f.street_address(), f.city(), f.state_abbr(), f.zipcode()
    return {
        "address": f"{street}, {city}, {state} {zip_code}",
        "addressStreet": street,
        "addressCity": city,
        "addressProvince": state,
        "addressZIP": zip_code,
        "addressCountry": "United States",
        "position": {
            "latitude": round(float(f.latitude()), 5),
            "longitude": round(float(f.longitude()), 5),
        },
    }


def generate_synchroteam(v: SynchroteamSandbox, gen: Gen) -> None:
    """Fill the store: users (an office manager and technicians), parts, customers with sites
    and equipment, n jobs with their activities, invoices and quotations, and the
    technicians' timesheets (clock in/out, unavailability), then the inventory
    (`generate_stock`, its own random draws). The random draws happen in one
    fixed order, so a seed gives the same data set byte for byte."""
    store = v.sandbox.store
    users = generate_users(gen)
    store.put_many(K["user"], users)
    techs = [u for u in users if u["profile"] == "technician"]
    parts = generate_parts(gen)
    store.put_many(K["part"], parts)
    customers, sites, equipment = generate_customers(gen)
    store.put_many(K["customer"], customers)
    store.put_many(K["site"], sites)
    store.put_many(K["equipment"], equipment)
    ids, nums = generate_jobs(gen, store, customers, sites, equipment, techs)
    for name in ("job", "activity", "invoice", "quotation"):
        store.set_sequence(K[name], ids[name])
    store.set_sequence("synchroteam.job_num", ids["job_num"])
    store.set_sequence("synchroteam.invoice_num", nums["invoice"])
    store.set_sequence("synchroteam.quotation_num", nums["quotation"])
    store.set_sequence(K["customer"], FIRST_IDS["customer"] + len(customers))
    store.set_sequence(K["site"], FIRST_IDS["site"] + len(sites))
    store.set_sequence(K["equipment"], FIRST_IDS["equipment"] + len(equipment))
    store.set_sequence(K["user"], FIRST_IDS["user"] + len(users))
    store.set_sequence(K["part"], FIRST_IDS["part"] + len(parts))
    generate_stock(v, gen.anchor)


def generate_users(gen: Gen) -> list[dict[str, Any]]:
    """The office manager and min(60, max(8, n/2500)) technicians (5 % inactive)."""
    rng, fake = gen.rng, gen.fake
    d = st_date
    n_techs = min(60, max(8, gen.n // 2500))
    office = {
        "id": FIRST_IDS["user"],
        "myId": "EMP-000",
        "login": "office",
        "firstName": "Office",
        "lastName": "Manager",
        "name": "Office Manager",
        "email": f"office@{accounts.SYNCHROTEAM_DOMAIN}.example",
        "phone": fake.numerify("###-###-####"),
        "profile": "manager",
        "active": True,
        "customFieldValues": [],
        "dateCreated": d(gen.past(900, 600)),
        "dateModified": d(gen.past(600, 300)),
    }
    users = [office]
    for i in range(1, n_techs + 1):
        first, last = fake.first_name(), fake.last_name()
        at = gen.past(900, 280)
        users.append(
            {
                "id": FIRST_IDS["user"] + i,
                "myId": f"EMP-{i:03d}",
                "login": f"{first[0].lower()}{last.lower()}",
                "firstName": first,
                "lastName": last,
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}@{accounts.SYNCHROTEAM_DOMAIN}.example",
                "phone": fake.numerify("###-###-####"),
                "profile": "technician",
                "active": rng.random() > 0.05,
                "customFieldValues": custom_values(
                    "user",
                    {
                        501: fake.bothify("LIC-#######"),
                        502: f"VAN-{i:02d}",
                        503: rng.choice(
                            [
                                "EPA 608",
                                "EPA 608, NATE",
                                "Journeyman Plumber",
                                "Master Electrician",
                                "Journeyman Electrician",
                            ]
                        ),
                    },
                ),
                "dateCreated": d(at),
                "dateModified": d(gen.after(at, 24 * 200)),
            }
        )
    return users


def generate_parts(gen: Gen) -> list[dict[str, Any]]:
    """The parts and services catalogue (``PARTS``)."""
    d = st_date
    parts = []
    for i, (ref, name, kind, cat, price) in enumerate(PARTS):
        parts.append(
            {
                "id": FIRST_IDS["part"] + i,
                "myId": None,
                "reference": ref,
                "name": name,
                "description": name,
                "price": price,
                "isTracked": kind == "part",
                "category": cat,
                "status": "active",
                "type": kind,
                "tax": TAX,
                "dateCreated": d(gen.past(900, 600)),
                "dateModified": d(gen.past(600, 100)),
            }
        )
    return parts


def generate_customers(
    gen: Gen,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """``(customers, sites, equipment)``: max(15, n/20) customers (40 % commercial, with 1-3
    sites), each site with 1-2 pieces of equipment of different trades."""
    rng = gen.rng
    customers: list[dict[str, Any]] = []
    sites: list[dict[str, Any]] = []
    equipment: list[dict[str, Any]] = []
    for i in range(max(15, gen.n // 20)):
        cust, commercial, at = _customer(gen, i)
        customers.append(cust)
        for s in range(rng.choices([1, 2, 3], [70, 22, 8])[0] if commercial else 1):
            site = _site(gen, cust, s, FIRST_IDS["site"] + len(sites), at)
            sites.append(site)
            for trade in rng.sample(list(EQUIPMENT), rng.randint(1, 2)):
                equipment.append(
                    _equipment(gen, site, trade, FIRST_IDS["equipment"] + len(equipment), at)
                )
    return customers, sites, equipment


def _customer(gen: Gen, i: int) -> tuple[dict[str, Any], bool, datetime]:
    """The ``i``-th customer, whether it is commercial, and when it was created."""
    rng, fake = gen.rng, gen.fake
    d = st_date
    at = gen.past(900, 280)
    commercial = rng.random() < 0.4
    first, last = fake.first_name(), fake.last_name()
    name = fake.company() if commercial else f"{last}, {first}"
    cust = {
        "id": FIRST_IDS["customer"] + i,
        "myId": f"CUST-{i + 1:05d}",
        "name": name,
        **_addr(gen),
        "contactFirstName": first,
        "contactLastName": last,
        "contactEmail": f"{first.lower()}.{last.lower()}@example.com",
        "contactPhone": fake.numerify("###-###-####"),
        "contactMobile": fake.numerify("###-###-####"),
        "active": True,
        "customFieldValues": custom_values(
            "customer",
            {
                201: rng.choice(["Due on receipt", "Net 15", "Net 30"])
                if commercial
                else "Due on receipt",
                202: "no" if rng.random() < 0.9 else "yes",
                203: rng.choice(["Phone", "Email", "SMS"]),
            },
        ),
        "dateCreated": d(at),
        "dateModified": d(gen.after(at, 24 * 300)),
    }
    return cust, commercial, at


def _site(gen: Gen, cust: dict[str, Any], s: int, sid: int, at: datetime) -> dict[str, Any]:
    """Site number ``s`` of ``cust`` (the first one at the customer's address)."""
    rng, fake = gen.rng, gen.fake
    d = st_date
    name = cust["name"]
    return {
        "id": sid,
        "myId": f"SITE-{sid - FIRST_IDS['site'] + 1:05d}",
        "name": f"{name} - {'Main' if s == 0 else fake.city()}",
        "customer": {"id": cust["id"], "myId": cust["myId"], "name": name},
        **(_addr(gen) if s else {k: cust[k] for k in ADDRESS_KEYS}),
        "contactFirstName": cust["contactFirstName"],
        "contactLastName": cust["contactLastName"],
        "contactPhone": cust["contactPhone"],
        "active": True,
        "customFieldValues": custom_values(
            "site",
            {
                301: fake.numerify("####") if rng.random() < 0.4 else "",
                302: rng.choice(["Mon-Fri 8-5", "24/7", "Call ahead", "Weekdays after 9am"]),
                303: rng.choice(["yes", "no", "no"]),
            },
        ),
        "dateCreated": d(at),
        "dateModified": d(gen.after(at, 24 * 300)),
    }


def _equipment(
    gen: Gen, site: dict[str, Any], trade: str, eid: int, at: datetime
) -> dict[str, Any]:
    """One piece of ``trade`` equipment installed at ``site``."""
    rng, fake = gen.rng, gen.fake
    d = st_date
    brand, model = rng.choice(EQUIPMENT[trade])
    installed = gen.past(3000, 300)
    return {
        "id": eid,
        "myId": fake.bothify("SN-??########").upper(),
        "name": f"{brand} {model}",
        "brand": brand,
        "model": model,
        "category": trade,
        "customer": site["customer"],
        "site": {"id": site["id"], "myId": site["myId"], "name": site["name"]},
        "active": True,
        "customFieldValues": custom_values(
            "equipment",
            {
                401: installed.strftime("%Y-%m-%d"),
                402: (installed + timedelta(days=3650)).strftime("%Y-%m-%d"),
                403: rng.choice(["R-410A", "R-32", "R-22", "R-454B"]) if trade == "HVAC" else "",
                404: rng.choice(["16x25x1", "20x25x1", "16x20x1"]) if trade == "HVAC" else "",
            },
        ),
        "dateCreated": d(at),
        "dateModified": d(gen.after(at, 24 * 300)),
    }
