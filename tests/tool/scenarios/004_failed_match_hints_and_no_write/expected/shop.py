def price(total, percent):
    return total - total * percent
