"""SAP tables over RFC: the ``sap`` head and the layer it is assembled on.

- ``head``: ``SapHead``, the entry point (ATTACH, elements, sap_tables/sap_fields, reads, split,
  counts);
- ``logon``: ``sap://`` URIs and ATTACH options to pyrfc's logon parameters;
- ``rfc``: the ``Connection`` protocol pyrfc and the test simulator share, ``connect`` (lazy
  import; a missing client or SDK in one line), ``call`` (every RFC error as one ``SapError``
  line);
- ``catalog``: tables (DD02L/DD02T), fields (DDIF_FIELDINFO_GET or DD03L), row counts
  (EM_GET_NUMBER_OF_ENTRIES, or a note), the read function and its row width;
- ``abap``: predicates as OPTIONS lines (72 characters, literals whole, quotes doubled), key
  ranges;
- ``convert``: fixed-width text to typed Arrow columns;
- ``reader``: a table as bounded Arrow record batches — field groups stitched by key, pages by
  key ranges, ROWSKIPS only without a key.
"""
