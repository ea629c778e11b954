import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from canonical.codes import Icd10Cm, Ndc, Npi, normalize_ndc, npi_is_valid, procedure_code_system


def _with_check_digit(nine: str) -> str:
    return next(nine + str(d) for d in range(10) if npi_is_valid(nine + str(d)))


@pytest.mark.parametrize("npi", ["1234567893", "1260181593", "1830166132"])
def test_known_good_npis(npi: str) -> None:
    assert TypeAdapter(Npi).validate_python(npi) == npi


@pytest.mark.parametrize("npi", ["1234567890", "123456789", "12345678930", "12345A7893", ""])
def test_bad_npis_are_refused_with_a_reason(npi: str) -> None:
    with pytest.raises(ValidationError, match="NPI"):
        TypeAdapter(Npi).validate_python(npi)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_exactly_one_check_digit_makes_an_npi(nine: str) -> None:
    valid = [d for d in range(10) if npi_is_valid(nine + str(d))]
    assert len(valid) == 1
    good = _with_check_digit(nine)
    wrong = good[:9] + str((int(good[9]) + 1) % 10)
    assert not npi_is_valid(wrong)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("M17.11", "M17.11"), ("m1711", "M17.11"), ("E119", "E11.9"), ("I10", "I10")],
)
def test_icd10cm_shapes_normalize_to_dotted(raw: str, normal: str) -> None:
    assert TypeAdapter(Icd10Cm).validate_python(raw) == normal


@pytest.mark.parametrize("raw", ["U07.1", "17.11", "M1", "M17.11111", "MM7.1", "M17."])
def test_icd10cm_wrong_shapes_refused(raw: str) -> None:
    with pytest.raises(ValidationError, match="ICD-10-CM"):
        TypeAdapter(Icd10Cm).validate_python(raw)


@pytest.mark.parametrize(
    ("code", "system"), [("27447", "CPT"), ("0001F", "CPT"), ("0042T", "CPT"), ("J1745", "HCPCS")]
)
def test_procedure_code_systems(code: str, system: str) -> None:
    assert procedure_code_system(code) == system


@pytest.mark.parametrize("code", ["2744", "W1234", "274477", "ABCDE"])
def test_procedure_codes_of_wrong_shape(code: str) -> None:
    with pytest.raises(ValueError, match="CPT"):
        procedure_code_system(code)


@pytest.mark.parametrize(
    ("raw", "eleven"),
    [
        ("0002-7510-01", "00002751001"),
        ("50090-3470-1", "50090347001"),
        ("12345-678-90", "12345067890"),
        ("00002751001", "00002751001"),
    ],
)
def test_ndc_forms_normalize_to_eleven_digits(raw: str, eleven: str) -> None:
    assert normalize_ndc(raw) == eleven
    assert TypeAdapter(Ndc).validate_python(raw) == eleven


@pytest.mark.parametrize("raw", ["123-4567-89", "0002751001", "00002-7510-0A", "1-2-3"])
def test_bad_ndcs_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="NDC"):
        normalize_ndc(raw)
