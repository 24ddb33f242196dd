"""A quick check of the shop module: `python check_shop.py` exits non-zero while the bug is there."""

from shop import apply_discount, cart_total

items = [{"price": 10.0, "quantity": 2}, {"price": 5.0, "quantity": 1}]
total = cart_total(items)
assert total == 25.0, total
discounted = apply_discount(total, 20)
assert discounted == 20.0, f"apply_discount(25.0, 20) returned {discounted}, expected 20.0"
print("ok")
