# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The demo's shop (scripts/demo.sh --shop), run by `odoo shell` on a database with
website_sale: a few published products, and the demo contacts as the shop's
customers, each with an order to follow in the portal. Run again, it changes
nothing it made already. Not the addon's demo data: the addon does not depend on
website_sale.
"""

PRODUCTS = [
    ("PWL-DEMO-LAMP", "Walnut Desk Lamp", 49.0),
    ("PWL-DEMO-MUG", "Stoneware Mug", 12.5),
    ("PWL-DEMO-TOTE", "Canvas Tote Bag", 18.0),
    ("PWL-DEMO-PLANT", "Potted Olive Tree", 65.0),
]
# demo contact (xmlid in the addon) -> the products of its order
ORDERS = {
    "demo_contact_active": ["PWL-DEMO-LAMP", "PWL-DEMO-MUG"],  # Hana, logs in
    "demo_contact_eligible": ["PWL-DEMO-TOTE"],  # Ada, invited by mail
    "demo_contact_eligible_2": ["PWL-DEMO-PLANT", "PWL-DEMO-MUG"],  # Ben
}


def main(env):
    website = env["website"].search([], limit=1)
    # visitors may sign up themselves, as website_sale sets it: the order
    # confirmation's "Sign Up to follow your order"
    website.auth_signup_uninvited = "b2c"
    env["ir.config_parameter"].set_param("auth_signup.invitation_scope", "b2c")

    variants = {}
    for code, name, price in PRODUCTS:
        template = env["product.template"].search([("default_code", "=", code)])
        if not template:
            template = env["product.template"].create(
                {
                    "name": name,
                    "default_code": code,
                    "list_price": price,
                    "sale_ok": True,
                    "is_published": True,
                }
            )
        variants[code] = template.product_variant_id

    for xmlid, codes in ORDERS.items():
        partner = env.ref(f"partner_website_login.{xmlid}", raise_if_not_found=False)
        if not partner:
            continue
        orders = env["sale.order"].search(
            [("partner_id", "=", partner.id), ("website_id", "=", website.id)]
        )
        if orders:
            continue
        order = env["sale.order"].create(
            {
                "partner_id": partner.id,
                "website_id": website.id,
                "order_line": [
                    (0, 0, {"product_id": variants[code].id, "product_uom_qty": 1})
                    for code in codes
                ],
            }
        )
        order.action_confirm()
    env.cr.commit()
    print(f"shop: {len(PRODUCTS)} products, orders for {len(ORDERS)} demo contacts")


main(env)  # noqa: F821 (given by odoo shell)
