"""A state resembling the recorded Dolibarr instance, and the order its samples were recorded in.

The samples in ``reference/dolibarr/samples/`` are single calls made one after the other on
one instance, so most of them depend on earlier ones (ids, stock, renamed labels). Replaying
them *in order* against :func:`recorded_state` reproduces that history: creating calls get the
same ids, reads see the same data. :data:`CATALOG_SEQUENCE` is that order for the catalogue,
stock, documents, setup and error samples; :data:`PREPARE` seeds the few rows that came from
other areas (an invoice with its PDF, an order line using a product, a customer in a category)
right before the sample that needs them. Other areas append their own sequences.

Keys: :data:`ADMIN_KEY` (every right), :data:`LIMITED_KEY` (a user with no right),
:data:`BAD_KEY` (unknown).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from dolisync.emulators.dataset import DolibarrSetup, VatRate
from dolisync.emulators.dolibarr.state import DolibarrState

__all__ = ["ADMIN_KEY", "LIMITED_KEY", "BAD_KEY", "recorded_setup", "recorded_state", "CATALOG_SEQUENCE",
           "PREPARE", "key_for_auth"]

ADMIN_KEY = "replay-admin-key"
LIMITED_KEY = "replay-limited-key"
BAD_KEY = "replay-wrong-key"


def recorded_setup() -> DolibarrSetup:
    """Company FR / EUR with France's VAT dictionary, like the recorded instance."""
    return DolibarrSetup(
        company_name="Lab Shop SARL", country_code="FR", country_id=1, currency="EUR",
        vat_rates=[VatRate("0", note="VAT rate 0 ou non applicable"), VatRate("2.1", note="VAT rate - super-reduced"),
                   VatRate("5.5", note="VAT rate - reduced (France hors DOM-TOM)"),
                   VatRate("10", note="VAT rate - reduced"),
                   VatRate("20", note="VAT rate - standard (France hors DOM-TOM)")],
        api_keys={ADMIN_KEY: "admin", LIMITED_KEY: "limited"},
    )


def recorded_state(clock: Callable[[], int] | None = None) -> DolibarrState:
    """A fresh state of the recorded instance before the first sample (no catalogue yet)."""
    state = DolibarrState.from_setup(recorded_setup())
    state.user_rights["limited"] = frozenset()
    if clock is not None:
        state.clock = clock
    return state


def key_for_auth(auth: str | None) -> str | None:
    """The key to send for a sample's ``auth`` description (``None`` = send none)."""
    text = (auth or "").lower()
    if text in ("", "none"):
        return None
    if "wrong key" in text:
        return BAD_KEY
    if "non-admin" in text or "no permission" in text:
        return LIMITED_KEY
    return ADMIN_KEY


def _seed_invoice(state: DolibarrState) -> None:
    from dolisync.emulators.dolibarr.documents import minimal_pdf, store_file

    invoices = state.table("invoices")
    if 3 not in invoices:
        invoices[3] = {"id": 3, "ref": "FA2611-0001", "socid": 1, "lines": [], "total_ttc": Decimal("70.74")}
        state.sequences["invoices"] = max(state.sequences.get("invoices", 0), 3)
    store_file(state, "facture", "FA2611-0001", "FA2611-0001.pdf", minimal_pdf(["FA2611-0001"]), "application/pdf",
               generated=True)


def _seed_order_using_shipping(state: DolibarrState) -> None:
    orders = state.table("orders")
    order_id = state.next_id("orders")
    orders[order_id] = {"id": order_id, "ref": f"(PROV{order_id})", "lines": [{"fk_product": 3, "qty": 1}]}


def _seed_customer_in_category(state: DolibarrState) -> None:
    from dolisync.emulators.dolibarr.cat_categories import DELETE_FAILS_FLAG

    links = state.table("category_links")
    if not any(l["fk_categorie"] == 3 for l in links.values()):
        state.insert("category_links", {"fk_categorie": 3, "type": "customer", "fk_object": 1})
    # The recorded 500 came from the install's missing llx_categorie_project_task table, not the link.
    state.extra[DELETE_FAILS_FLAG] = True


#: Sample name -> state change applied just before replaying it.
PREPARE: dict[str, Callable[[DolibarrState], None]] = {
    "documents_builddoc_invoice_pdf": _seed_invoice,
    "products_delete_used_in_order": _seed_order_using_shipping,
    "categories_delete": _seed_customer_in_category,
}

_DICTS = ["dict_civilities", "dict_contact_types", "dict_countries_filter", "dict_countries_list",
          "dict_country_by_code", "dict_country_by_id", "dict_country_by_iso", "dict_currencies",
          "dict_payment_terms", "dict_payment_types", "dict_shipping_methods", "dict_states_fr_sample",
          "dict_units_sample", "dict_vat_es", "dict_vat_fr"]

#: Recorded order of the catalogue/stock/documents/setup/error samples (see module docstring).
CATALOG_SEQUENCE: list[str] = [
    "status", "users_info_self", "users_create_limited", "setup_modules_list", "setup_modules_status_active", "setup_company", "setup_conf_MAIN_MONNAIE",
    *_DICTS, "error_503_sqlfilters_in_unquoted",
    "multicurrencies_list", "dict_currencies_multicurrency", "multicurrencies_create_usd",
    "multicurrencies_get_by_code", "multicurrencies_update_rate", "multicurrencies_rates",
    "multicurrencies_create_duplicate", "multicurrencies_get_by_code_404",
    "setup_extrafields_list_empty", "setup_extrafield_create_product", "setup_extrafield_create_societe",
    "setup_extrafield_create_commande", "setup_extrafield_create_duplicate", "setup_extrafields_list_product",
    "error_401_no_key", "error_401_bad_key", "error_403_no_permission", "error_501_unknown_resource",
    "error_501_payments_route_is_paiements", "error_400_malformed_json",
    "categories_create_product_root", "categories_create_product_child", "categories_create_customer",
    "categories_create_duplicate_label", "categories_create_missing_type", "categories_get",
    "categories_get_with_childs", "categories_get_404", "categories_list_type_product",
    "categories_list_type_customer", "categories_list_filter_label", "categories_list_empty",
    "products_create", "products_create_price_ttc", "products_create_service", "products_create_minimal_no_price",
    "products_create_duplicate_ref", "products_create_duplicate_barcode", "products_create_missing_label",
    "products_get", "products_get_includestockdata", "products_get_404", "products_get_non_numeric_id",
    "products_get_by_ref", "products_get_by_ref_404", "products_get_by_barcode",
    "products_get_price_ttc", "error_403_waf_colon_in_path", "products_get_by_ref_with_paren_waf_403",
    "products_list_properties", "products_list_page0_limit2", "products_list_page1_limit2",
    "products_list_page9_limit2_beyond", "products_list_pagination_data", "products_list_sqlfilter_ref",
    "products_list_sqlfilter_ref_ext", "products_list_sqlfilter_extrafield", "products_list_sqlfilter_like_and",
    "products_list_sqlfilter_tms", "products_list_bad_sqlfilters", "products_list_sqlfilters_injection_refused",
    "products_list_empty", "products_update_ref_ext", "products_get_by_ref_ext", "products_update_price",
    "products_update_price_ttc", "products_update_fields", "products_update_stock_reel_refused",
    "products_update_ref_to_duplicate", "products_update_404", "products_prices_per_customer_disabled",
    "products_prices_per_quantity_disabled", "products_prices_per_segment_disabled",
    "categories_link_product", "categories_link_product_again", "categories_link_product_by_ref",
    "categories_link_404_object", "categories_objects_of_category", "categories_unlink_product",
    "categories_update", "categories_for_object", "products_categories_of_product", "categories_delete",
    "warehouses_create", "warehouses_create_duplicate_label", "warehouses_create_second", "warehouses_get",
    "warehouses_get_404", "warehouses_list", "warehouses_list_empty",
    "stockmovements_create_increase", "stockmovements_create_decrease", "stockmovements_create_missing_fields",
    "stockmovements_create_qty0", "stockmovements_create_bad_product", "stockmovements_create_bad_warehouse",
    "stockmovements_create_negative_below_zero", "products_stock", "products_stock_one_warehouse",
    "products_stock_empty",
    "attributes_create", "attributes_create_color", "attributes_create_duplicate_ref", "attribute_values_create",
    "attribute_values_create_m", "attribute_values_create_blue", "attributes_get", "attributes_get_404",
    "attributes_get_by_ref", "attributes_list", "attributes_values_list", "attributes_value_get",
    "attributes_update",
    "variants_create", "variants_create_auto_ref", "variants_create_bad_features",
    "variants_create_same_features_again", "variants_list_of_parent", "variants_list_of_parent_with_stock",
    "products_get_variant_child", "products_list_parents_only", "products_list_variants_only",
    "variants_update_real_combination", "variants_update_missing_combination_returns_1",
    "variants_update_with_child_product_id_noop", "variants_list_after_update",
    "stockmovements_create_on_variant", "warehouses_products", "products_list_with_stock_properties",
    "stockmovements_get", "stockmovements_list_for_product", "products_get_with_stock",
    "products_stock_after_shipment", "products_get_numeric_string_id", "products_create_price_ttc_correct", "products_get_price_ttc_correct",
    "documents_upload_product_image", "documents_upload_product_image_again",
    "documents_upload_same_name_no_overwrite", "documents_upload_unknown_ref",
    "documents_upload_missing_modulepart", "documents_list_product", "documents_list_product_by_ref",
    "documents_list_product_empty", "documents_download_product_image", "documents_download_404",
    "products_get_after_image_upload", "documents_builddoc_invoice_pdf", "documents_list_invoice",
    "documents_download_invoice_pdf", "documents_delete_product_image",
    "products_delete_used_in_order", "products_delete", "products_delete_404",
    "products_create_unknown_field_ignored",
]
