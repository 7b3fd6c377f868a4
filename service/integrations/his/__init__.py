"""What the hospital information system (HIS) gets: the identity in the fields of the HIS data
standard (QĐ 4750 / QĐ 130, ``docs/his-fields.md``), the administrative-unit codes of the
residence, field-name profiles, and the signed webhook outbox.
"""
