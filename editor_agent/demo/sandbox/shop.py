def line_total(price, quantity):
    return price * quantity


def cart_total(items):
    return sum(line_total(item["price"], item["quantity"]) for item in items)


def apply_discount(total, percent):
    return total - total * percent


def format_price(amount, currency="EUR"):
    return f"{amount:.2f} {currency}"
