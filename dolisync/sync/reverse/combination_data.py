"""Combination data, Dolibarr → PrestaShop (part of the ``product_data`` flow).

After its creation, a combination keeps following its Dolibarr twin (bound by the catalog,
entity ``combination``: a variant child, or a separate product): ``reference``, the ``weight``
impact and the barcodes (``ean13``/``upc``/``isbn``), mapped by
:func:`~dolisync.mapping.reverse.combination_data_fields`. The weight impact is the Dolibarr
product's weight minus its base: the Dolibarr parent's weight (variants), or the shop product's
own (combinations as separate products, whose parent has no twin) — the same rule as the
combination price impacts.

Like product data (field group ``data``) this follows Dolibarr whenever ``product_data`` is on:
equal values cost nothing, different ones go through the ownership rule (a shop edit of a value
we wrote is logged as a conflict) and out as one ``PATCH combinations/{id}`` per combination;
the catalog's hashes are primed around the writes exactly like for prices (the shared loop:
:class:`~dolisync.sync.reverse.combination_flow.CombinationFieldsFlow`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dolisync.clients.prestashop_records import Combination, Product
from dolisync.mapping.catalog import product_ref
from dolisync.mapping.money import r6
from dolisync.mapping.reverse import combination_data_fields, combination_values, data_fields
from dolisync.sync.flows.products import PRODUCT
from dolisync.sync.reverse.combination_flow import CombinationFieldsFlow

__all__ = ["CombinationDataFlow", "ENTITY"]

ENTITY = "erp_combination_data"


class CombinationDataFlow(CombinationFieldsFlow):
    """Write Dolibarr's variant data into the combinations (see module docstring)."""

    ENTITY = ENTITY
    GROUP = "data"

    async def base(self, product: Product) -> tuple[Decimal, str] | None:
        """(base weight in the shop unit, parent ref) of the product's combinations."""
        parent_id = self.run.catalog.target(PRODUCT, product.id)
        if parent_id is None:  # combinations as separate products: the shop product is the base
            return r6(product.weight), product_ref(product, self.run.flow.options)
        parent = (await self.data.products()).get(parent_id)
        if parent is None:
            return None
        return data_fields(parent, self.run.options)["weight"], str(parent.get("ref") or "")

    async def fields(self, product: Product, combination: Combination, twin: dict[str, Any],
                     base: tuple[Decimal, str]) -> tuple[dict[str, Any], dict[str, Any]]:
        base_weight, parent_ref = base
        desired = combination_data_fields(twin, base_weight=base_weight,
                                          default_reference=f"{parent_ref}-{combination.id}",
                                          current_reference=combination.reference, options=self.run.options)
        return desired, combination_values(combination)
