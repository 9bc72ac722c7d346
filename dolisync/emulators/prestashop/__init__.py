"""emulators prestashop package."""
