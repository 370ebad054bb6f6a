"""The product domains a brand can be in: products, places and the customer, per language."""

from __future__ import annotations

from typing import Any

# German nouns carry their gender so articles come out right: (gender, noun).
DOMAINS: dict[str, dict[str, dict[str, Any]]] = {
    "food": {
        "en": {
            "products": [
                "chocolate bar", "cereal", "instant coffee", "baby formula", "frozen pizza",
                "bottled water", "protein bar", "cocoa", "noodle cup", "yogurt",
                "ice cream", "granola", "hazelnut spread", "oat drink",
            ],
            "place": ["supermarket", "store", "shop"],
            "customer": "customer",
        },
        "de": {
            "products": [
                ("f", "Schokolade"), ("n", "Müsli"), ("m", "Instantkaffee"),
                ("f", "Babynahrung"), ("f", "Tiefkühlpizza"), ("n", "Mineralwasser"),
                ("m", "Proteinriegel"), ("m", "Kakao"), ("m", "Joghurt"), ("n", "Eis"),
                ("f", "Nudelsuppe"), ("f", "Nusscreme"), ("m", "Haferdrink"),
            ],
            "place": [("f", "Filiale", "in der Filiale"), ("m", "Supermarkt", "im Supermarkt")],
            "customer": "einen Kunden",
        },
    },
    "retail": {
        "en": {
            "products": [
                "online order", "TV", "pair of jeans", "vacuum cleaner", "grocery delivery",
                "pickup order", "air fryer", "winter jacket", "laptop", "mattress",
                "toy set", "coffee maker", "garden chair", "phone case",
            ],
            "place": ["store", "supercenter", "shop"],
            "customer": "customer",
        },
        "de": {
            "products": [
                ("m", "Fernseher"), ("f", "Jeans"), ("m", "Staubsauger"),
                ("f", "Heißluftfritteuse"), ("f", "Winterjacke"), ("m", "Laptop"),
                ("f", "Matratze"), ("f", "Onlinebestellung"), ("f", "Kaffeemaschine"),
                ("m", "Gartenstuhl"), ("f", "Handyhülle"), ("n", "Spielzeug"),
            ],
            "place": [("f", "Filiale", "in der Filiale"), ("m", "Markt", "im Markt")],
            "customer": "einen Kunden",
        },
    },
    "coffee": {
        "en": {
            "products": [
                "latte", "cold brew", "cappuccino", "flat white", "croissant",
                "oat milk latte", "espresso", "chai latte", "caramel macchiato", "muffin",
                "iced mocha", "matcha latte", "banana bread", "hot chocolate",
            ],
            "place": ["café", "store", "drive-thru"],
            "customer": "customer",
        },
        "de": {
            "products": [
                ("m", "Latte"), ("m", "Cappuccino"), ("m", "Cold Brew"), ("n", "Croissant"),
                ("m", "Espresso"), ("m", "Chai Latte"), ("m", "Muffin"),
                ("m", "Flat White"), ("m", "Matcha Latte"), ("f", "heiße Schokolade"),
                ("n", "Bananenbrot"), ("m", "Iced Mocha"),
            ],
            "place": [("n", "Café", "im Café"), ("f", "Filiale", "in der Filiale")],
            "customer": "einen Kunden",
        },
    },
    "rail": {
        "en": {
            "products": [
                "train", "express train", "connection", "ticket", "seat reservation",
                "night train", "regional train", "booking app", "rail card", "sleeper car",
                "dining car", "bike ticket",
            ],
            "place": ["station", "ticket office", "travel centre"],
            "customer": "passenger",
        },
        "de": {
            "products": [
                ("m", "Zug"), ("m", "ICE"), ("f", "Verbindung"), ("n", "Ticket"),
                ("f", "Sitzplatzreservierung"), ("m", "Nachtzug"), ("m", "Regionalexpress"),
                ("f", "App"), ("f", "Rabattkarte"), ("m", "Speisewagen"),
                ("n", "Fahrradticket"), ("m", "Schlafwagen"),
            ],
            "place": [("m", "Bahnhof", "am Bahnhof"), ("n", "Reisezentrum", "im Reisezentrum")],
            "customer": "einen Fahrgast",
        },
    },
    "bikes": {
        "en": {
            "products": [
                "e-bike", "city bike", "cargo bike", "bike repair", "bike service",
                "helmet", "bike lock", "battery", "kids bike", "gravel bike",
            ],
            "place": ["workshop", "shop"],
            "customer": "customer",
        },
        "de": {
            "products": [
                ("n", "E-Bike"), ("n", "Stadtrad"), ("n", "Lastenrad"), ("f", "Reparatur"),
                ("f", "Inspektion"), ("m", "Helm"), ("n", "Schloss"), ("m", "Akku"),
                ("n", "Kinderrad"), ("n", "Gravelbike"),
            ],
            "place": [("f", "Werkstatt", "in der Werkstatt"), ("m", "Laden", "im Laden")],
            "customer": "einen Kunden",
        },
    },
}  # fmt: skip
