"""TOTP enrolment display: the otpauth:// URI as a QR code, drawn here as inline SVG (no
request ever leaves the hospital for a QR image), and the secret for manual entry."""

from __future__ import annotations

from base64 import b32encode

import qrcode
import qrcode.image.svg


def totp_secret_base32(device) -> str:
    return b32encode(device.bin_key).decode().rstrip("=")


def totp_qr_svg(device) -> str:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=15, border=2)
    svg = image.to_string(encoding="unicode")
    # Drop the XML declaration: the SVG is embedded in the HTML page.
    return svg[svg.index("<svg") :]
