"""Regions (wilayah): provinces, kabupaten/kota, kecamatan and desa with Kemendagri codes.

Data: idn-area-data (github.com/fityannugroho/idn-area-data), ODbL 1.0; vendored in
portal/data/wilayah with its licence and attribution.
"""
