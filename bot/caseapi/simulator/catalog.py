"""The simulated district: its agencies and the procedures their one-stop counters handle.

Modelled on Dầu Tiếng district (Bình Dương): the district people's committee and its twelve
communes and town. Agency identifiers follow the national shape ``V1V2V3.Z1Z2.Y1Y2.MX1X2``;
procedure codes follow the national database's shape but are illustrative, as are fees.
Volume weights are relative within a level; the district receives about one dossier in nine
(Dầu Tiếng 2017: district 9,353, communes 79,092).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

HOURS = "Sáng 7h30–11h30, chiều 13h30–17h00, thứ Hai đến thứ Sáu"
DISTRICT_SHARE = 9_353 / (9_353 + 79_092)


class Level(StrEnum):
    """Which tier of government handles a procedure."""

    DISTRICT = "district"
    COMMUNE = "commune"


@dataclass(frozen=True, slots=True)
class CatalogAgency:
    """An agency of the simulated district with a one-stop counter, and its share of the
    dossiers (what the contract returns of it is `bot.domain.dossier.Agency`)."""

    code: str
    name: str
    level: Level
    weight: float

    @property
    def pickup_place(self) -> str:
        """Where results are handed over."""
        return f"Bộ phận Một cửa {self.name}"


@dataclass(frozen=True, slots=True)
class CatalogProcedure:
    """An administrative procedure as the simulator needs it (what the contract returns of it
    is `bot.domain.dossier.Procedure`).

    `days` is the legal processing time in working days (0: the same day); `fee` the fee in
    VND collected at the counter (None: free); `obligation` a typical financial obligation
    (land use levy, registration fee, income tax) notified during processing, if any;
    `supplement` the share of dossiers that get a supplement request.
    """

    code: str
    name: str
    field: str
    level: Level
    days: int
    weight: float
    fee: int | None = None
    fee_per_page: bool = False
    obligation: tuple[int, int] | None = None
    supplement: float = 0.02


DISTRICT = CatalogAgency("000.00.15.H12", "UBND huyện Dầu Tiếng", Level.DISTRICT, 1.0)

COMMUNES: tuple[CatalogAgency, ...] = (
    CatalogAgency("000.01.15.H12", "UBND thị trấn Dầu Tiếng", Level.COMMUNE, 1.6),
    CatalogAgency("000.02.15.H12", "UBND xã Minh Hòa", Level.COMMUNE, 1.1),
    CatalogAgency("000.03.15.H12", "UBND xã Minh Thạnh", Level.COMMUNE, 0.9),
    CatalogAgency("000.04.15.H12", "UBND xã Minh Tân", Level.COMMUNE, 0.9),
    CatalogAgency("000.05.15.H12", "UBND xã Định An", Level.COMMUNE, 0.7),
    CatalogAgency("000.06.15.H12", "UBND xã Long Hòa", Level.COMMUNE, 1.0),
    CatalogAgency("000.07.15.H12", "UBND xã Định Thành", Level.COMMUNE, 0.8),
    CatalogAgency("000.08.15.H12", "UBND xã Định Hiệp", Level.COMMUNE, 0.8),
    CatalogAgency("000.09.15.H12", "UBND xã An Lập", Level.COMMUNE, 0.8),
    CatalogAgency("000.10.15.H12", "UBND xã Long Tân", Level.COMMUNE, 0.9),
    CatalogAgency("000.11.15.H12", "UBND xã Thanh An", Level.COMMUNE, 1.0),
    CatalogAgency("000.12.15.H12", "UBND xã Thanh Tuyền", Level.COMMUNE, 1.0),
)

AGENCIES: tuple[CatalogAgency, ...] = (DISTRICT, *COMMUNES)

_C = Level.COMMUNE
_D = Level.DISTRICT
_HT = "Hộ tịch"
_CT = "Chứng thực"
_DD = "Đất đai"
_XD = "Xây dựng"
_KD = "Đăng ký kinh doanh"
_LD = "Lao động - Thương binh và Xã hội"
_TP = "Tư pháp"

PROCEDURES: tuple[CatalogProcedure, ...] = (
    # ---- commune level
    CatalogProcedure("1.001193", "Đăng ký khai sinh", _HT, _C, 1, 9.0),
    CatalogProcedure("1.000656", "Đăng ký khai tử", _HT, _C, 1, 2.5),
    CatalogProcedure("1.000894", "Đăng ký kết hôn", _HT, _C, 1, 3.0),
    CatalogProcedure("2.000635", "Cấp bản sao Trích lục hộ tịch", _HT, _C, 0, 5.0, fee=8_000),
    CatalogProcedure("1.004873", "Cấp Giấy xác nhận tình trạng hôn nhân", _HT, _C, 3, 5.0),
    CatalogProcedure(
        "1.004859",
        "Thay đổi, cải chính, bổ sung thông tin hộ tịch",
        _HT,
        _C,
        3,
        2.0,
        supplement=0.05,
    ),
    CatalogProcedure("1.004884", "Đăng ký lại khai sinh", _HT, _C, 5, 1.0, supplement=0.08),
    CatalogProcedure("1.001022", "Đăng ký nhận cha, mẹ, con", _HT, _C, 3, 0.5, supplement=0.08),
    CatalogProcedure(
        "1.003583",
        "Liên thông thủ tục đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế "
        "cho trẻ em dưới 6 tuổi",
        _HT,
        _C,
        7,
        3.0,
    ),
    CatalogProcedure(
        "2.000815",
        "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan, tổ chức có thẩm quyền "
        "của Việt Nam cấp hoặc chứng nhận",
        _CT,
        _C,
        0,
        50.0,
        fee=2_000,
        fee_per_page=True,
        supplement=0.0,
    ),
    CatalogProcedure(
        "2.000884",
        "Chứng thực chữ ký trong các giấy tờ, văn bản",
        _CT,
        _C,
        0,
        6.0,
        fee=10_000,
        supplement=0.0,
    ),
    CatalogProcedure(
        "2.001035",
        "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản, quyền sử dụng đất "
        "và nhà ở",
        _CT,
        _C,
        2,
        3.0,
        fee=50_000,
    ),
    CatalogProcedure(
        "2.001016", "Chứng thực văn bản thỏa thuận phân chia di sản", _CT, _C, 2, 0.7, 50_000
    ),
    CatalogProcedure(
        "1.001776",
        "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hàng tháng",
        _LD,
        _C,
        20,
        1.0,
        supplement=0.1,
    ),
    CatalogProcedure("1.001758", "Hỗ trợ chi phí mai táng", _LD, _C, 3, 0.5),
    CatalogProcedure(
        "1.001699",
        "Xác định, xác định lại mức độ khuyết tật và cấp Giấy xác nhận khuyết tật",
        _LD,
        _C,
        25,
        0.5,
        supplement=0.1,
    ),
    CatalogProcedure("1.003622", "Hòa giải tranh chấp đất đai", _DD, _C, 45, 0.3, supplement=0.05),
    CatalogProcedure("2.000930", "Thủ tục công nhận hòa giải viên", _TP, _C, 5, 0.1),
    # ---- district level
    CatalogProcedure(
        "1.003003",
        "Đăng ký, cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác "
        "gắn liền với đất lần đầu",
        _DD,
        _D,
        30,
        10.0,
        fee=100_000,
        obligation=(2_000_000, 120_000_000),
        supplement=0.15,
    ),
    CatalogProcedure(
        "1.004227",
        "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất do chuyển "
        "nhượng, tặng cho, thừa kế",
        _DD,
        _D,
        10,
        18.0,
        fee=50_000,
        obligation=(5_000_000, 80_000_000),
        supplement=0.12,
    ),
    CatalogProcedure(
        "1.004206",
        "Chuyển mục đích sử dụng đất phải được phép của cơ quan nhà nước có thẩm quyền đối "
        "với hộ gia đình, cá nhân",
        _DD,
        _D,
        15,
        5.0,
        obligation=(10_000_000, 300_000_000),
        supplement=0.12,
    ),
    CatalogProcedure(
        "1.004203", "Tách thửa hoặc hợp thửa đất", _DD, _D, 15, 6.0, fee=50_000, supplement=0.1
    ),
    CatalogProcedure(
        "1.004221",
        "Cấp đổi Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn "
        "liền với đất",
        _DD,
        _D,
        7,
        5.0,
        fee=50_000,
        supplement=0.06,
    ),
    CatalogProcedure(
        "1.009994",
        "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ",
        _XD,
        _D,
        15,
        8.0,
        fee=75_000,
        supplement=0.15,
    ),
    CatalogProcedure(
        "1.009996",
        "Cấp giấy phép xây dựng sửa chữa, cải tạo đối với nhà ở riêng lẻ",
        _XD,
        _D,
        15,
        1.5,
        fee=75_000,
        supplement=0.12,
    ),
    CatalogProcedure(
        "2.000720",
        "Đăng ký thành lập hộ kinh doanh",
        _KD,
        _D,
        3,
        10.0,
        fee=100_000,
        supplement=0.06,
    ),
    CatalogProcedure(
        "2.000575", "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh", _KD, _D, 3, 4.0, 100_000
    ),
    CatalogProcedure(
        "2.000644",
        "Tạm ngừng kinh doanh, tiếp tục kinh doanh trước thời hạn đã thông báo của hộ kinh doanh",
        _KD,
        _D,
        3,
        1.5,
    ),
    CatalogProcedure(
        "2.000748",
        "Thay đổi, cải chính, bổ sung thông tin hộ tịch, xác định lại dân tộc cho người từ đủ "
        "14 tuổi trở lên",
        _HT,
        _D,
        3,
        1.5,
        fee=28_000,
        supplement=0.05,
    ),
    CatalogProcedure(
        "2.000843",
        "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan, tổ chức có thẩm quyền "
        "của nước ngoài cấp",
        _CT,
        _D,
        0,
        6.0,
        fee=2_000,
        fee_per_page=True,
        supplement=0.0,
    ),
    CatalogProcedure("1.002519", "Giải quyết chế độ trợ cấp thờ cúng liệt sĩ", _LD, _D, 12, 1.0),
    CatalogProcedure(
        "2.000620", "Cấp Giấy phép bán lẻ sản phẩm rượu", "Công thương", _D, 10, 1.5, 400_000
    ),
    CatalogProcedure(
        "1.005098",
        "Chuyển trường đối với học sinh trung học cơ sở",
        "Giáo dục và Đào tạo",
        _D,
        3,
        1.0,
    ),
)

SUPPLEMENT_NOTES: dict[str, tuple[str, ...]] = {
    _DD: (
        "Bổ sung bản vẽ trích đo địa chính thửa đất có xác nhận của Văn phòng Đăng ký đất đai.",
        "Bổ sung bản sao giấy tờ về quyền sử dụng đất; bản đã nộp bị mờ, không đọc được.",
        "Bổ sung văn bản thỏa thuận của các đồng thừa kế có chứng thực.",
        "Bổ sung tờ khai lệ phí trước bạ và tờ khai thuế thu nhập cá nhân có chữ ký của các bên.",
    ),
    _XD: (
        "Bổ sung bản vẽ thiết kế mặt bằng, mặt cắt, mặt đứng công trình.",
        "Bổ sung bản sao Giấy chứng nhận quyền sử dụng đất của thửa đất xây dựng.",
        "Bản vẽ chưa thể hiện khoảng lùi so với lộ giới; đề nghị chỉnh sửa và nộp lại.",
    ),
    _KD: (
        "Bổ sung bản sao hợp đồng thuê địa điểm kinh doanh.",
        "Tên hộ kinh doanh trùng với hộ kinh doanh đã đăng ký trong huyện; đề nghị đặt lại tên.",
    ),
    _HT: (
        "Bổ sung bản chính Giấy chứng sinh.",
        "Bổ sung giấy tờ chứng minh nơi cư trú.",
        "Bổ sung bản sao giấy tờ làm căn cứ cải chính thông tin hộ tịch.",
    ),
    _LD: (
        "Bổ sung Giấy xác nhận khuyết tật.",
        "Bổ sung tờ khai có xác nhận của trưởng ấp, khu phố.",
    ),
    "": (
        "Bổ sung bản sao Căn cước của người nộp hồ sơ.",
        "Tờ khai chưa ghi đủ thông tin; đề nghị bổ sung và ký lại.",
    ),
}

PAYMENT_NOTES: tuple[str, ...] = (
    "Nộp lệ phí trước bạ và thuế thu nhập cá nhân theo thông báo của Chi cục Thuế; mang theo "
    "chứng từ nộp tiền khi nhận kết quả.",
    "Nộp tiền sử dụng đất theo thông báo của Chi cục Thuế; mang theo chứng từ nộp tiền khi "
    "nhận kết quả.",
)

NOT_ACCEPTED_NOTES: tuple[str, ...] = (
    "Hồ sơ không thuộc thẩm quyền giải quyết; đề nghị nộp tại cơ quan có thẩm quyền.",
    "Thành phần hồ sơ chưa đầy đủ theo quy định; đề nghị hoàn thiện và nộp lại.",
    "Bản chính giấy tờ bị tẩy xóa, sửa chữa, không đủ điều kiện tiếp nhận.",
)

STOPPED_NOTES: tuple[str, ...] = (
    "Dừng xử lý do quá thời hạn bổ sung hồ sơ theo yêu cầu.",
    "Dừng xử lý do thửa đất đang có tranh chấp, chờ kết quả giải quyết.",
    "Dừng xử lý theo văn bản của cơ quan có thẩm quyền.",
)

WITHDRAWN_NOTE = "Công dân có đơn đề nghị rút hồ sơ."
LAPSED_SUPPLEMENT_NOTE = STOPPED_NOTES[0]


def apology(agency: CatalogAgency, new_due: str) -> str:
    """The agency's apology letter for a late dossier (phiếu xin lỗi và hẹn lại ngày trả)."""
    return (
        f"{agency.name} xin lỗi ông/bà vì hồ sơ chưa giải quyết xong đúng ngày hẹn. "
        f"Ngày hẹn trả kết quả mới: {new_due}."
    )


def supplement_notes(field: str) -> tuple[str, ...]:
    """The supplement requests typical of a field, then the generic ones."""
    return SUPPLEMENT_NOTES.get(field, ()) + SUPPLEMENT_NOTES[""]


PROCEDURES_BY_CODE: dict[str, CatalogProcedure] = {p.code: p for p in PROCEDURES}
AGENCIES_BY_CODE: dict[str, CatalogAgency] = {a.code: a for a in AGENCIES}
