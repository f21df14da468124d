"""The dated price list (prices.json) and how a region changes it.

A price for a region is its explicit override if prices.json has one, else the us-east-1 list
price times the region's multiplier. Regions not in the file fall back to us-east-1 prices, and
the estimate says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any


class PricesError(ValueError):
    """The price file is missing a value or is not shaped like prices.json."""


@dataclass(frozen=True)
class Prices:
    as_of: str
    currency: str
    base_region: str
    services: Mapping[str, Mapping[str, Any]]
    regions: Mapping[str, Mapping[str, Any]]

    @classmethod
    def bundled(cls) -> Prices:
        text = resources.files("conveyor.cost").joinpath("prices.json").read_text("utf-8")
        return cls.parse(json.loads(text), origin="conveyor's prices.json")

    @classmethod
    def from_file(cls, path: Path) -> Prices:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise PricesError(f"cannot read {path}: {exc.strerror or exc}") from None
        except json.JSONDecodeError as exc:
            raise PricesError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
        return cls.parse(data, origin=str(path))

    @classmethod
    def parse(cls, data: object, *, origin: str) -> Prices:
        if not isinstance(data, dict):
            raise PricesError(f"{origin}: expected a JSON object like conveyor's prices.json")
        services = data.get("services")
        if not isinstance(services, dict) or not all(
            isinstance(s, dict) and isinstance(s.get("prices"), dict) for s in services.values()
        ):
            raise PricesError(f"{origin}: 'services' must map names to {{\"prices\": {{...}}}}")
        regions = data.get("regions", {})
        if not isinstance(regions, dict):
            raise PricesError(f"{origin}: 'regions' must be an object")
        return cls(
            as_of=str(data.get("as_of", "an unknown date")),
            currency=str(data.get("currency", "USD")),
            base_region=str(data.get("base_region", "us-east-1")),
            services=services,
            regions=regions,
        )

    def knows(self, region: str) -> bool:
        return region in self.regions or region == self.base_region

    def region_label(self, region: str) -> str:
        if self.knows(region):
            return region
        return f"{self.base_region} (no prices for {region})"

    def resolver(self, region: str) -> Callable[[str, str], float]:
        settings = self.regions.get(region, {})
        multiplier = float(settings.get("multiplier", 1.0))
        overrides = settings.get("overrides", {})

        def price(service: str, key: str) -> float:
            override = overrides.get(f"{service}.{key}")
            if override is not None:
                return float(override)
            try:
                value = self.services[service]["prices"][key]
            except KeyError:
                raise PricesError(f"no price for {service}.{key} in the price file") from None
            return float(value) * multiplier

        return price
