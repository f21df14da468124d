"""The dated price list (prices.json) and how a region changes it.

A price for a region is its explicit override if prices.json has one, else the us-east-1 list
price times the region's multiplier. Regions not in the file fall back to us-east-1 prices, and
the estimate says so.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

# The bundled price list is 3 KB; a megabyte is room for any hand-written one.
MAX_PRICE_BYTES = 1_000_000


class PricesError(ValueError):
    """The price file is missing a value or is not shaped like prices.json."""


@dataclass(frozen=True)
class Prices:
    as_of: str
    currency: str
    base_region: str
    services: Mapping[str, Mapping[str, Any]]
    regions: Mapping[str, Mapping[str, Any]]
    origin: str = "conveyor's prices.json"

    @classmethod
    def bundled(cls) -> Prices:
        text = resources.files("conveyor.cost").joinpath("prices.json").read_text("utf-8")
        return cls.parse(json.loads(text), origin="conveyor's prices.json")

    @classmethod
    def from_file(cls, path: Path) -> Prices:
        from conveyor.files import read_bounded

        try:
            # Bounded and non-blocking: `--prices /dev/zero` or a FIFO must not hang or fill
            # memory (the bundled file is 3 KB).
            raw = read_bounded(path, MAX_PRICE_BYTES)
        except OSError as exc:
            raise PricesError(f"cannot read {path}: {exc.strerror or exc}") from None
        if len(raw) > MAX_PRICE_BYTES:
            raise PricesError(f"{path}: larger than {MAX_PRICE_BYTES:,} bytes")
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise PricesError(f"{path}: not UTF-8 (byte {exc.start}); save it as UTF-8") from None
        except json.JSONDecodeError as exc:
            raise PricesError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
        except RecursionError:
            raise PricesError(f"{path}: nested too deeply to be a price file") from None
        except ValueError:  # an integer of more than 4,300 digits
            digits = max(len(run) for run in re.findall(r"\d+", raw.decode("utf-8")))
            raise PricesError(
                f"{path}: a number of {digits:,} digits; no price needs more than a few"
            ) from None
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
            origin=origin,
        )

    def knows(self, region: str) -> bool:
        return region in self.regions or region == self.base_region

    def region_label(self, region: str) -> str:
        if self.knows(region):
            return region
        return f"{self.base_region} (no prices for {region})"

    def resolver(self, region: str) -> Callable[[str, str], float]:
        settings = self.regions.get(region, {})
        if not isinstance(settings, Mapping):
            raise PricesError(f"{self.origin}: regions.{region} must be an object")
        multiplier = self._amount(
            settings.get("multiplier", 1.0), f"regions.{region}.multiplier", "a factor, e.g. 1.05"
        )
        overrides = settings.get("overrides", {})
        if not isinstance(overrides, Mapping):
            raise PricesError(f"{self.origin}: regions.{region}.overrides must be an object")

        def price(service: str, key: str) -> float:
            override = overrides.get(f"{service}.{key}")
            if override is not None:
                return self._amount(override, f"regions.{region}.overrides.{service}.{key}")
            try:
                value = self.services[service]["prices"][key]
            except KeyError:
                raise PricesError(f"no price for {service}.{key} in the price file") from None
            return self._amount(value, f"{service}.{key}") * multiplier

        return price

    def _amount(self, value: object, where: str, what: str = "") -> float:
        """A price or multiplier: a finite number, not below zero (a price file is the user's,
        and 'free', NaN or a list would otherwise end in a traceback or a NaN total)."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            shown = repr(value) if len(repr(value)) <= 60 else f"{repr(value)[:60]}..."
            what = what or f"an amount in {self.currency}"
            raise PricesError(f"{self.origin}: {where} must be a number ({what}), not {shown}")
        if not math.isfinite(value) or value < 0:
            raise PricesError(f"{self.origin}: {where} must be a finite amount >= 0, not {value}")
        return float(value)
